// The primitive table operations, written once with drizzle's query builder: SQLite's and PostgreSQL's
// builders take the same calls, so the dialects differ only in their tables and in how tags are searched.
import { and, asc, count, eq, gt, isNull, lt, type SQL, sql } from "drizzle-orm";
import { deleteMany, insertMany, type RawSql, selectAll } from "./bulk-sql.ts";
import type { CertificatePair, ChangeEvent, ClusterEvent, NodeRecord, TagFilter } from "./contract.ts";
import type { Filter, ListQuery, TableAccess, WriteAccess } from "./dialect.ts";
import type { EntityName, Row } from "./entity-def.ts";

/** A table as the builder sees it: columns by wire name. */
export type AnyTable = { [column: string]: unknown };

/**
 * A drizzle database or transaction of either dialect. Their generic types do not unify, so the calls
 * below are typed by what they return; tests run every operation against both databases.
 */
// biome-ignore lint/suspicious/noExplicitAny: the two dialects' builder types are not assignable to one another.
export type AnyDb = any;

export type DrizzleTables = Readonly<
  Record<EntityName, AnyTable> & {
    config_state: AnyTable;
    config_events: AnyTable;
    cluster_events: AnyTable;
    cluster_nodes: AnyTable;
    default_certificates: AnyTable;
  }
>;

/** `tags` contains `tag`, in the dialect's JSON dialect. */
export type TagCondition = (column: unknown, tag: string) => SQL;

function column(table: AnyTable, name: string): never {
  const found = table[name];
  if (found === undefined) throw new Error(`no column ${name}`);
  return found as never;
}

function where(
  table: AnyTable,
  filter: Filter | undefined,
  after?: string,
  tags?: TagFilter,
  hasTag?: TagCondition,
) {
  const parts: SQL[] = [];
  for (const [name, value] of Object.entries(filter ?? {}))
    parts.push(value === null ? isNull(column(table, name)) : eq(column(table, name), value));
  if (after !== undefined) parts.push(gt(column(table, "id"), after));
  if (tags && tags.tags.length > 0 && hasTag) {
    const each = tags.tags.map((tag) => hasTag(column(table, "tags"), tag));
    parts.push(sql`(${sql.join(each, tags.mode === "and" ? sql` AND ` : sql` OR `)})`);
  }
  return parts.length > 0 ? and(...parts) : undefined;
}

export function tableAccess(
  db: AnyDb,
  tables: DrizzleTables,
  hasTag: TagCondition,
  raw: RawSql,
): TableAccess {
  return {
    all: (entity) => selectAll(raw, tables[entity]),
    async find(entity, filter) {
      const table = tables[entity];
      const rows: Row[] = await db.select().from(table).where(where(table, filter)).limit(1);
      return rows[0] ?? null;
    },
    async list(entity, query: ListQuery) {
      const table = tables[entity];
      let select = db
        .select()
        .from(table)
        .where(where(table, query.filter, query.after, query.tags, hasTag))
        .orderBy(asc(column(table, "id")));
      if (query.limit !== undefined) select = select.limit(query.limit);
      return (await select) as Row[];
    },
    async count(entity, filter, tags) {
      const table = tables[entity];
      const rows: { n: number }[] = await db
        .select({ n: count() })
        .from(table)
        .where(where(table, filter, undefined, tags, hasTag));
      return Number(rows[0]?.n ?? 0);
    },
  };
}

export function writeAccess(
  db: AnyDb,
  tables: DrizzleTables,
  hasTag: TagCondition,
  raw: RawSql,
): WriteAccess {
  const state = tables.config_state;
  return {
    ...tableAccess(db, tables, hasTag, raw),
    async save(entity, row) {
      const table = tables[entity];
      const { id: _id, ...rest } = row;
      await db
        .insert(table)
        .values(row)
        .onConflictDoUpdate({ target: column(table, "id"), set: rest });
    },
    async remove(entity, id) {
      const table = tables[entity];
      await db.delete(table).where(eq(column(table, "id"), id));
    },
    saveMany: (entity, rows) => insertMany(raw, tables[entity], rows, true),
    removeMany: (entity, ids) => deleteMany(raw, tables[entity], ids),
    async bumpVersion(by) {
      const version = column(state, "version");
      const rows: { version: number }[] = await db
        .update(state)
        .set({ version: sql`${version} + ${by}` })
        .where(eq(column(state, "id"), 1))
        .returning({ version });
      return Number(rows[0]!.version);
    },
    async recordEvents(events, at) {
      const rows = events.map((e) => ({
        version: e.version,
        entity: e.entity,
        action: e.action,
        entity_id: e.id,
        at,
      }));
      await insertMany(raw, tables.config_events, rows, false);
    },
    async pruneEvents(before) {
      await db.delete(tables.config_events).where(lt(column(tables.config_events, "at"), before));
    },
  };
}

/** A config_events row as the store's feed carries it. */
export type ConfigEventRow = { version: number; entity: string; action: string; entity_id: string };

export function changeEventOf(row: ConfigEventRow): ChangeEvent {
  return {
    entity: row.entity as ChangeEvent["entity"],
    action: row.action as ChangeEvent["action"],
    id: row.entity_id,
    version: Number(row.version),
  };
}

/** A cluster_events row with its integers as numbers (PostgreSQL's bigints arrive as strings). */
export function clusterEventOf(row: ClusterEvent): ClusterEvent {
  return { ...row, id: Number(row.id), at: Number(row.at) };
}

export async function readEvents(db: AnyDb, tables: DrizzleTables, after: number, limit: number) {
  const events = tables.config_events;
  const rows: ConfigEventRow[] = await db
    .select()
    .from(events)
    .where(gt(column(events, "version"), after))
    .orderBy(asc(column(events, "version")))
    .limit(limit);
  return rows.map(changeEventOf);
}

/** How long a cluster event is kept for nodes that were slow to read it. */
const CLUSTER_EVENT_RETENTION_MS = 3600_000;

/** Stores a message for the other nodes, forgetting those older than the retention. */
export async function insertClusterEvent(
  db: AnyDb,
  tables: DrizzleTables,
  event: Omit<ClusterEvent, "id">,
): Promise<void> {
  const events = tables.cluster_events;
  await db.insert(events).values(event);
  await db.delete(events).where(lt(column(events, "at"), event.at - CLUSTER_EVENT_RETENTION_MS));
}

export async function readClusterEvents(
  db: AnyDb,
  tables: DrizzleTables,
  after: number,
  limit: number,
): Promise<ClusterEvent[]> {
  const events = tables.cluster_events;
  const rows: ClusterEvent[] = await db
    .select()
    .from(events)
    .where(gt(column(events, "id"), after))
    .orderBy(asc(column(events, "id")))
    .limit(limit);
  return rows.map(clusterEventOf);
}

/** The newest cluster event's id (0 when there is none): a starting node reads only what comes after it. */
export async function lastClusterEventId(db: AnyDb, tables: DrizzleTables): Promise<number> {
  const events = tables.cluster_events;
  const rows: { id: unknown }[] = await db.select({ id: sql`max(${column(events, "id")})` }).from(events);
  return Number(rows[0]?.id ?? 0);
}

export async function upsertNode(db: AnyDb, tables: DrizzleTables, node: NodeRecord): Promise<void> {
  const { id: _id, ...rest } = node;
  await db
    .insert(tables.cluster_nodes)
    .values(node)
    .onConflictDoUpdate({ target: column(tables.cluster_nodes, "id"), set: rest });
}

export async function listNodes(
  db: AnyDb,
  tables: DrizzleTables,
  after: string | undefined,
  limit: number,
): Promise<NodeRecord[]> {
  const nodes = tables.cluster_nodes;
  const rows: NodeRecord[] = await db
    .select()
    .from(nodes)
    .where(after === undefined ? undefined : gt(column(nodes, "id"), after))
    .orderBy(asc(column(nodes, "id")))
    .limit(limit);
  return rows.map((row) => ({
    ...row,
    config_version: Number(row.config_version),
    started_at: Number(row.started_at),
    last_seen: Number(row.last_seen),
  }));
}

export async function deleteNodesBefore(db: AnyDb, tables: DrizzleTables, lastSeen: number): Promise<number> {
  const nodes = tables.cluster_nodes;
  const gone: unknown[] = await db
    .delete(nodes)
    .where(lt(column(nodes, "last_seen"), lastSeen))
    .returning({ id: column(nodes, "id") });
  return gone.length;
}

/** The stored default certificate; `candidate` is stored first when there is none (the first node wins). */
export async function keepDefaultCertificate(
  db: AnyDb,
  tables: DrizzleTables,
  candidate: CertificatePair,
): Promise<CertificatePair> {
  const table = tables.default_certificates;
  await db
    .insert(table)
    .values({ id: "default", ...candidate, created_at: Math.floor(Date.now() / 1000) })
    .onConflictDoNothing();
  const rows: CertificatePair[] = await db
    .select({ cert: column(table, "cert"), key: column(table, "key") })
    .from(table)
    .where(eq(column(table, "id"), "default"));
  return rows[0] ?? candidate;
}

export async function readVersion(db: AnyDb, tables: DrizzleTables): Promise<number> {
  const state = tables.config_state;
  const rows: { version: number }[] = await db
    .select({ version: column(state, "version") })
    .from(state)
    .where(eq(column(state, "id"), 1));
  return Number(rows[0]?.version ?? 0);
}
