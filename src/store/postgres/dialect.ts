// PostgreSQL, for several nodes sharing one configuration: Bun's built-in client (Bun.SQL) through drizzle's
// bun-sql adapter. Config writes take a transaction-scoped advisory lock, so Kong's check-then-write rules
// run one at a time across the whole cluster (writes are rare; correctness is not); migrations run under a
// session advisory lock, so nodes starting together migrate once.
import type { SQL } from "bun";
import { sql } from "drizzle-orm";
import { BunSQLSession } from "drizzle-orm/bun-sql/session";
import type { MigrationMeta } from "drizzle-orm/migrator";
import { PgDatabase, PgDialect } from "drizzle-orm/pg-core";
import type { RawSql } from "../bulk-sql.ts";
import type { Dialect } from "../dialect.ts";
import {
  type DrizzleTables,
  deleteNodesBefore,
  insertClusterEvent,
  keepDefaultCertificate,
  lastClusterEventId,
  listNodes,
  readClusterEvents,
  readEvents,
  readVersion,
  type TagCondition,
  tableAccess,
  upsertNode,
  writeAccess,
} from "../drizzle-access.ts";
import { embeddedMigrations } from "../embedded-migrations.ts";
import { postgresMigrations } from "../migrations.generated.ts";
import { DatabaseOpenError } from "../open-error.ts";
import { postgresRateCounters } from "./rate-counters.ts";
import { postgresTables } from "./tables.ts";

const tables = postgresTables as unknown as DrizzleTables;
const hasTag: TagCondition = (tags, tag) => sql`(${tags})::jsonb @> jsonb_build_array(${tag}::text)`;

/** Advisory lock keys (any constants; they only have to differ from each other and from other apps'). */
const WRITE_LOCK = 0x706f7274; // "port"
const MIGRATION_LOCK = 0x6d696772; // "migr"

/** Every committed configuration write is announced here (delivered at commit, dropped on rollback). */
const CHANNEL = "portico_config";

/** The URL without its password, for logs, `GET /` and `/status`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable url)";
  }
}

export async function openPostgres(url: string): Promise<Dialect> {
  const location = redactUrl(url);
  let client: SQL;
  try {
    // Bun.SQL, read here: a value import would load Bun's SQL client at every start-up (the bundler hoists it).
    client = new Bun.SQL(url, { max: 10, idleTimeout: 30, connectionTimeout: 5 });
  } catch (error) {
    throw new DatabaseOpenError(`cannot open database '${location}': ${(error as Error).message}`);
  }
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => {});
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    throw new DatabaseOpenError(`cannot open database '${location}': ${cause.message}`);
  }
  const db = database(client);
  return {
    info: { dialect: "postgres", location },
    read: tableAccess(db, tables, hasTag, rawSql(client)),
    transaction: (work) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
        // drizzle's transaction runs on Bun.SQL's transaction handle: bulk statements must use the same one.
        const handle = (tx as unknown as { session: { client: SQL } }).session.client;
        const access = writeAccess(tx, tables, hasTag, rawSql(handle));
        let wrote = false;
        const result = await work({
          ...access,
          async recordEvents(events, at) {
            wrote ||= events.length > 0;
            await access.recordEvents(events, at);
          },
        });
        // Other nodes hear about it the moment it commits (NOTIFY inside the transaction is sent at commit).
        if (wrote) await tx.execute(sql`SELECT pg_notify(${CHANNEL}, '')`);
        return result;
      }),
    configVersion: () => readVersion(db, tables),
    eventsSince: (version, limit) => readEvents(db, tables, version, limit),
    async broadcast(event) {
      await insertClusterEvent(db, tables, event);
      await db.execute(sql`SELECT pg_notify(${CHANNEL}, '')`);
    },
    clusterEventsSince: (id, limit) => readClusterEvents(db, tables, id, limit),
    lastClusterEventId: () => lastClusterEventId(db, tables),
    watch(listener) {
      // Bun.SQL keeps one dedicated LISTEN connection and re-subscribes after a reconnect; the store's periodic
      // sync covers notifications lost while it was down.
      const subscription = client
        .listen(
          CHANNEL,
          () => listener(),
          () => listener(),
        )
        .catch(() => null);
      return () => {
        void subscription.then((s) => s?.unlisten()).catch(() => {});
      };
    },
    upsertNode: (node) => upsertNode(db, tables, node),
    listNodes: (after, limit) => listNodes(db, tables, after, limit),
    deleteNodesBefore: (lastSeen) => deleteNodesBefore(db, tables, lastSeen),
    keepDefaultCertificate: (candidate) => keepDefaultCertificate(db, tables, candidate),
    rateCounters: postgresRateCounters(client),
    async ping() {
      try {
        await db.execute(sql`SELECT 1`);
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}

/** Plain statements on a client or a transaction's handle (Bun.SQL prepares and caches them by text). */
function rawSql(client: SQL): RawSql {
  return {
    placeholders: "$n",
    run: async (text, params) => {
      await client.unsafe(text, params);
    },
    values: async (text, params) => (await client.unsafe(text, params).values()) as unknown[][],
  };
}

/**
 * drizzle's bun-sql database over `client`, made as drizzle({ client }) makes it but without importing its
 * driver module: the bundler hoists that module's `import { SQL } from "bun"` into the binary's start-up, and
 * reaching Bun.SQL loads Bun's SQL client (~5 ms of CPU at every start, PostgreSQL or not).
 */
function database(client: SQL) {
  const dialect = new PgDialect();
  return new PgDatabase(dialect, new BunSQLSession(client, dialect, undefined), undefined);
}

async function migrate(client: SQL): Promise<void> {
  // One connection for the whole run: the session lock and the migrations must share it.
  const connection = await client.reserve();
  try {
    const db = database(connection as unknown as SQL);
    await db.execute(sql`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      const internals = db as unknown as {
        dialect: { migrate(m: MigrationMeta[], session: unknown, config: object): Promise<void> };
        session: unknown;
      };
      await internals.dialect.migrate(embeddedMigrations(postgresMigrations), internals.session, {
        migrationsFolder: "(embedded)",
      });
      await db.execute(sql`INSERT INTO config_state (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`);
    } finally {
      await db.execute(sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  } finally {
    connection.release();
  }
}
