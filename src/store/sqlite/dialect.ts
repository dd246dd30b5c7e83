// The embedded default: bun:sqlite, migrations compiled into the binary. bun:sqlite is synchronous and has one
// connection, so a transaction is BEGIN IMMEDIATE … COMMIT run to the end before anything else touches the
// connection: every read and write waits its turn (a read never sees a transaction half done), and
// IMMEDIATE takes the write lock up front so other processes sharing the file wait (busy_timeout).
import type { Database, SQLQueryBindings } from "bun:sqlite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import type { MigrationMeta } from "drizzle-orm/migrator";
import type { RawSql } from "../bulk-sql.ts";
import type { Dialect, TableAccess, WriteAccess } from "../dialect.ts";
import {
  changeEventOf,
  clusterEventOf,
  type DrizzleTables,
  deleteNodesBefore,
  insertClusterEvent,
  keepDefaultCertificate,
  listNodes,
  type TagCondition,
  tableAccess,
  writeAccess,
} from "../drizzle-access.ts";
import { embeddedMigrations } from "../embedded-migrations.ts";
import { sqliteMigrations } from "../migrations.generated.ts";
import { Serial } from "../serial.ts";
import type { SqliteFile } from "./open-file.ts";
import { sqliteRateCounters } from "./rate-counters.ts";
import { sqliteTables } from "./tables.ts";

export type SqliteDb = ReturnType<typeof drizzle<Record<string, never>>>;

const tables = sqliteTables as unknown as DrizzleTables;

/** How often another process's commits on the same file are looked for. */
const DATA_VERSION_POLL_MS = 100;
const hasTag: TagCondition = (tags, tag) =>
  sql`EXISTS (SELECT 1 FROM json_each(${tags}) WHERE value = ${tag})`;

/** The store's SQLite dialect on a file `openSqliteFile` opened and migrated. */
export function sqliteDialect({ sqlite, location }: SqliteFile): Dialect {
  const db = drizzle({ client: sqlite });
  const serial = new Serial();
  /** A feed's rows after a position, in order, as one plain statement (bun:sqlite keeps it prepared). */
  const rowsAfter = <Row, Out>(text: string, after: number, limit: number, map: (row: Row) => Out) =>
    serial.run(async () => (sqlite.query(text).all(after, limit) as Row[]).map(map));
  // bun:sqlite keeps the statements `query` compiled, by text: bulk statements are prepared once.
  const rawSql: RawSql = {
    placeholders: "?",
    run: async (text, params) => {
      sqlite.query(text).run(...(params as SQLQueryBindings[]));
    },
    values: async (text, params) => sqlite.query(text).values(...(params as SQLQueryBindings[])),
  };
  const raw = tableAccess(db, tables, hasTag, rawSql);
  const tx: WriteAccess = writeAccess(db, tables, hasTag, rawSql);
  const read: TableAccess = {
    find: (entity, filter) => serial.run(() => raw.find(entity, filter)),
    list: (entity, query) => serial.run(() => raw.list(entity, query)),
    all: (entity) => serial.run(() => raw.all(entity)),
    count: (entity, filter, tags) => serial.run(() => raw.count(entity, filter, tags)),
  };
  return {
    info: { dialect: "sqlite", location },
    read,
    transaction: (work) =>
      serial.run(async () => {
        sqlite.run("BEGIN IMMEDIATE");
        try {
          const result = await work(tx);
          sqlite.run("COMMIT");
          return result;
        } catch (error) {
          sqlite.run("ROLLBACK");
          throw error;
        }
      }),
    // Both read at every start: plain statements, not drizzle's query builder (milliseconds of cold code).
    configVersion: () =>
      serial.run(async () => {
        const row = sqlite.query("SELECT version FROM config_state WHERE id = 1").get() as {
          version: number;
        } | null;
        return Number(row?.version ?? 0);
      }),
    // Both read every second by the configuration watch (runtime/watch.ts) on the proxy's thread: through
    // drizzle's query builder, which stays cold code at once a second, each check held the thread for about
    // 0.7 ms (bench/README.md, "The -c1 tail, second look").
    eventsSince: (version, limit) =>
      rowsAfter(
        "SELECT version, entity, action, entity_id FROM config_events WHERE version > ? ORDER BY version LIMIT ?",
        version,
        limit,
        changeEventOf,
      ),
    broadcast: (event) => serial.run(() => insertClusterEvent(db, tables, event)),
    clusterEventsSince: (id, limit) =>
      rowsAfter(
        "SELECT id, channel, data, origin, at FROM cluster_events WHERE id > ? ORDER BY id LIMIT ?",
        id,
        limit,
        clusterEventOf,
      ),
    lastClusterEventId: () =>
      serial.run(async () => {
        const row = sqlite.query("SELECT max(id) AS id FROM cluster_events").get() as { id: number | null };
        return Number(row.id ?? 0);
      }),
    watch(listener) {
      // data_version moves when another connection (another process on this file) commits; our own commits
      // are delivered by the store directly. Reading it touches no page, so polling it often is cheap.
      const dataVersion = () =>
        (sqlite.query("PRAGMA data_version").get() as { data_version: number }).data_version;
      let seen = dataVersion();
      const timer = setInterval(() => {
        void serial.run(async () => {
          const now = dataVersion();
          if (now === seen) return;
          seen = now;
          listener();
        });
      }, DATA_VERSION_POLL_MS);
      return () => clearInterval(timer);
    },
    // The heartbeat's write, every 5 s on the node's main thread (which is the proxy's with --workers 1):
    // through drizzle's insert builder and with the file's `synchronous = FULL` it held that thread for 4–6 ms,
    // most of it the WAL's fsync. Losing a heartbeat to a power cut costs nothing (the next one rewrites the
    // row), so it commits without one; the next FULL commit syncs its frames along with its own.
    upsertNode: (node) =>
      serial.run(async () => {
        sqlite.run("PRAGMA synchronous = NORMAL");
        try {
          sqlite
            .query(
              `INSERT INTO cluster_nodes (id, hostname, version, config_version, started_at, last_seen, workers)
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname,
               version = excluded.version, config_version = excluded.config_version,
               started_at = excluded.started_at, last_seen = excluded.last_seen, workers = excluded.workers`,
            )
            .run(
              node.id,
              node.hostname,
              node.version,
              node.config_version,
              node.started_at,
              node.last_seen,
              node.workers,
            );
        } finally {
          sqlite.run("PRAGMA synchronous = FULL");
        }
      }),
    listNodes: (after, limit) => serial.run(() => listNodes(db, tables, after, limit)),
    deleteNodesBefore: (lastSeen) => serial.run(() => deleteNodesBefore(db, tables, lastSeen)),
    keepDefaultCertificate: (candidate) => serial.run(() => keepDefaultCertificate(db, tables, candidate)),
    rateCounters: sqliteRateCounters(sqlite, serial),
    async ping() {
      try {
        sqlite.query("SELECT 1").get();
        return true;
      } catch {
        return false;
      }
    },
    close: () =>
      serial.run(async () => {
        sqlite.close();
      }),
  };
}

/** Applies the embedded migrations the database lacks (a new or older database; see open-file.ts). */
export function migrateSqlite(sqlite: Database): void {
  const db = drizzle({ client: sqlite });
  // drizzle's runner, fed from memory instead of the migrations folder (which a binary does not have).
  const internals = db as unknown as {
    dialect: { migrate(m: MigrationMeta[], session: unknown, config: object): void };
    session: unknown;
  };
  internals.dialect.migrate(embeddedMigrations(sqliteMigrations), internals.session, {
    migrationsFolder: "(embedded)",
  });
}
