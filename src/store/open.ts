// Opens the configured database: a file path (or `:memory:`) is the embedded SQLite, a postgres:// URL is
// PostgreSQL. Both get their embedded migrations applied before anything else.
import type { Store, StoreOptions } from "./contract.ts";
import { openPostgres } from "./postgres/dialect.ts";
import { openSqlite } from "./sqlite/dialect.ts";
import { createStore } from "./store.ts";

export { DatabaseOpenError } from "./open-error.ts";

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  return createStore(isPostgresUrl(location) ? await openPostgres(location) : openSqlite(location), options);
}
