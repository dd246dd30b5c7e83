// Opens the configured database: a file path (or `:memory:`) is the embedded SQLite, a postgres:// URL is
// PostgreSQL. Both get their embedded migrations applied before anything else.
// Light on purpose (the CLI and the start-up path import it): the store's layers — drizzle, the table
// definitions, the entity rules — are imported when a store is built, so a start can open the SQLite file
// (openSqliteFile) and answer the admin API's `GET /` before evaluating them (runtime/server.ts).
import type { Store, StoreOptions } from "./contract.ts";
import { openSqliteFile, type SqliteFile } from "./sqlite/open-file.ts";

export { DatabaseOpenError } from "./open-error.ts";

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  if (!isPostgresUrl(location)) return sqliteStore(await openSqliteFile(location), options);
  // Loaded only for PostgreSQL: drizzle's pg-core and the pg tables cost milliseconds of every start-up.
  const [{ openPostgres }, { createStore }] = await Promise.all([
    import("./postgres/dialect.ts"),
    import("./store.ts"),
  ]);
  return createStore(await openPostgres(location), options);
}

/**
 * The store's modules, in the order they are evaluated when `sqliteStore` is given a pause to take between
 * steps: in one piece they are about 20 ms of evaluation in the compiled binary (drizzle's core, its SQLite
 * table definitions ~5, zod ~3, the entity definitions), which a request arriving meanwhile would wait for
 * whole. Each step is a module of ours, not a package's index: importing a package's namespace would keep
 * all of it in the bundle (zod and drizzle-orm by name: 2.6 MB more binary).
 */
const SQLITE_STORE_STEPS = [
  () => import("./bulk-sql.ts"),
  () => import("./sqlite/tables.ts"),
  () => import("../schemas/from-zod.ts"),
  () => import("./entities/index.ts"),
  () => import("./sqlite/dialect.ts"),
  () => import("./store.ts"),
];

/**
 * The store on a SQLite file already opened and migrated. `pause`, awaited after each step of loading the
 * store's code, lets the caller answer requests meanwhile (server.ts: the admin API's `GET /` at start-up).
 */
export async function sqliteStore(
  file: SqliteFile,
  options: StoreOptions = {},
  pause?: () => Promise<void>,
): Promise<Store> {
  if (pause)
    for (const step of SQLITE_STORE_STEPS) {
      await step();
      await pause();
    }
  const [{ sqliteDialect }, { createStore }] = await Promise.all([
    import("./sqlite/dialect.ts"),
    import("./store.ts"),
  ]);
  return createStore(sqliteDialect(file), options);
}
