// Opens the configured database: a file path (or `:memory:`) is the embedded SQLite, a postgres:// URL is
// PostgreSQL. Both get their embedded migrations applied before anything else.
import type { Store, StoreOptions } from "./contract.ts";
import { openSqlite } from "./sqlite/dialect.ts";
import { createStore } from "./store.ts";

export { DatabaseOpenError } from "./open-error.ts";

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  if (!isPostgresUrl(location)) return createStore(openSqlite(location), options);
  // Loaded only for PostgreSQL: drizzle's pg-core and the pg tables cost milliseconds of every start-up.
  const { openPostgres } = await import("./postgres/dialect.ts");
  return createStore(await openPostgres(location), options);
}
