// Opening the SQLite file with bun:sqlite alone: pragmas, the embedded migrations' up-to-date check and the
// config version row. Kept apart from the dialect (drizzle and the table definitions) so that a start on an
// existing database opens it, and the admin API answers, before that code is evaluated; a new or older
// database loads drizzle's migration runner here.
import { Database } from "bun:sqlite";
import { sqliteMigrations } from "../migrations.generated.ts";
import { DatabaseOpenError } from "../open-error.ts";

/** An open, migrated SQLite database, before the store's layers are built on it. */
export type SqliteFile = { readonly sqlite: Database; readonly location: string };

export async function openSqliteFile(location: string): Promise<SqliteFile> {
  let sqlite: Database;
  try {
    sqlite = new Database(location, { create: true, strict: true });
    if (location !== ":memory:") sqlite.run("PRAGMA journal_mode = WAL");
    // FULL, not NORMAL: admin writes are rare and a 2xx must survive a power cut, not just kill -9.
    sqlite.run("PRAGMA synchronous = FULL");
    sqlite.run("PRAGMA busy_timeout = 5000");
    sqlite.run("PRAGMA foreign_keys = ON");
  } catch (error) {
    throw new DatabaseOpenError(`cannot open database '${location}': ${(error as Error).message}`);
  }
  try {
    if (!upToDate(sqlite)) {
      const { migrateSqlite } = await import("./dialect.ts");
      migrateSqlite(sqlite);
    }
    sqlite.run("INSERT OR IGNORE INTO config_state (id, version) VALUES (1, 0)");
  } catch (error) {
    sqlite.close();
    throw new DatabaseOpenError(`cannot migrate database '${location}': ${(error as Error).message}`);
  }
  return { sqlite, location };
}

/** The newest embedded migration's timestamp: drizzle records it as `created_at` once applied. */
const LATEST_MIGRATION = Math.max(...sqliteMigrations.journal.entries.map((entry) => entry.when));

/**
 * Whether the database already has every embedded migration: one query of the newest applied one (drizzle's
 * runner applies those newer than it), instead of the runner's statements and hashing at every start.
 */
function upToDate(sqlite: Database): boolean {
  try {
    const newest = sqlite.query("SELECT max(created_at) AS newest FROM __drizzle_migrations").get() as {
      newest: number | string | null;
    } | null;
    return newest?.newest != null && Number(newest.newest) >= LATEST_MIGRATION;
  } catch {
    // No migrations table yet: a new database.
    return false;
  }
}

/**
 * The names of the plugins configured anywhere, each once, in the store's order (by id): what `GET /`
 * lists as enabled_in_cluster, read before the store's layers are loaded.
 */
export function pluginNamesInUse(file: SqliteFile): string[] {
  const rows = file.sqlite.query("SELECT name FROM plugins ORDER BY id").values() as [string][];
  return [...new Set(rows.map((row) => row[0]))];
}
