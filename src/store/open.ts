// Opens the configured database: a file path (or `:memory:`) is the embedded SQLite, a postgres:// URL is
// PostgreSQL. Both get their embedded migrations applied before anything else.
import type { Store } from "./contract.ts";
import { openSqlite } from "./sqlite/dialect.ts";
import { createStore } from "./store.ts";

export { DatabaseOpenError } from "./sqlite/dialect.ts";

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openStore(location: string): Promise<Store> {
  return createStore(openSqlite(location));
}
