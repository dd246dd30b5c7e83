// Opens the embedded SQLite database and applies the migrations compiled into the binary.
import { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import type { MigrationMeta } from "drizzle-orm/migrator";
import { sqliteMigrations } from "./migrations.generated.ts";

export type SqliteDb = ReturnType<typeof drizzle<Record<string, never>>>;

/** A database that cannot be opened or migrated; the CLI turns it into one line and exit code 2. */
export class DatabaseOpenError extends Error {}

export function openSqlite(location: string): { sqlite: Database; db: SqliteDb } {
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
  const db = drizzle({ client: sqlite });
  try {
    migrate(db);
    sqlite.run("INSERT OR IGNORE INTO config_state (id, version) VALUES (1, 0)");
  } catch (error) {
    sqlite.close();
    throw new DatabaseOpenError(`cannot migrate database '${location}': ${(error as Error).message}`);
  }
  return { sqlite, db };
}

/** The embedded migrations in the shape drizzle's own runner reads from disk. */
export function embeddedMigrations(): MigrationMeta[] {
  return sqliteMigrations.journal.entries.map((entry) => {
    const text = sqliteMigrations.files[entry.tag];
    if (text === undefined) throw new Error(`migration ${entry.tag} is not embedded`);
    return {
      sql: text.split("--> statement-breakpoint"),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: new Bun.CryptoHasher("sha256").update(text).digest("hex"),
    };
  });
}

function migrate(db: SqliteDb): void {
  // drizzle's runner, fed from memory instead of the migrations folder (which a binary does not have).
  const internals = db as unknown as {
    dialect: { migrate(m: MigrationMeta[], session: unknown, config: object): void };
    session: unknown;
  };
  internals.dialect.migrate(embeddedMigrations(), internals.session, { migrationsFolder: "(embedded)" });
}
