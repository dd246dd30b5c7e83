// The Store contract on bun:sqlite. bun:sqlite is synchronous, so every write runs start to finish inside
// one synchronous transaction (no `await` inside: an async callback would not roll back), and change
// events are published only after the commit.
import type { Database } from "bun:sqlite";
import { and, asc, count, eq, gt, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { GatewayError } from "../errors.ts";
import { fromZod } from "../schemas/from-zod.ts";
import { ChangeFeed } from "./change-feed.ts";
import { openSqlite, type SqliteDb } from "./db.ts";
import {
  decodeOffset,
  describeKey,
  ENTITY_DEFS,
  type EntityDef,
  type EntityKey,
  encodeOffset,
  nowSeconds,
  parseEntityKey,
} from "./entities.ts";
import type {
  BatchStep,
  ChangeEvent,
  EntityMap,
  EntityName,
  EntityRepository,
  Page,
  PageQuery,
  Scope,
  Store,
} from "./repository.ts";
import * as tables from "./tables.ts";

type AnyTable = SQLiteTable & Record<string, SQLiteColumn>;
const TABLES: Record<EntityName, AnyTable> = {
  services: tables.services as unknown as AnyTable,
  routes: tables.routes as unknown as AnyTable,
};

type Row = Record<string, unknown>;
type WriteResult<E> = { entity: E | null; events: ChangeEvent[] };

export function openSqliteStore(location: string): Store {
  const { sqlite, db } = openSqlite(location);
  return new SqliteStore(sqlite, db, location);
}

class SqliteStore implements Store {
  readonly info;
  readonly services: EntityRepository<EntityMap["services"]>;
  readonly routes: EntityRepository<EntityMap["routes"]>;
  readonly #feed = new ChangeFeed();
  readonly #sqlite: Database;
  readonly #db: SqliteDb;
  readonly #writers: { [N in EntityName]: SqliteEntityWriter<N> };

  constructor(sqlite: Database, db: SqliteDb, location: string) {
    this.#sqlite = sqlite;
    this.#db = db;
    this.info = { dialect: "sqlite" as const, location };
    this.#writers = {
      services: new SqliteEntityWriter(db, ENTITY_DEFS.services),
      routes: new SqliteEntityWriter(db, ENTITY_DEFS.routes),
    };
    this.services = this.#repository("services");
    this.routes = this.#repository("routes");
  }

  /** Runs `work` in one transaction, bumps the version once per changed entity, publishes after commit. */
  #write<T>(work: (events: ChangeEvent[]) => T): T {
    const events: ChangeEvent[] = [];
    const result = this.#db.transaction(
      () => {
        const value = work(events);
        for (const event of events) event.version = this.#bumpVersion();
        return value;
        // IMMEDIATE takes the write lock up front, so two processes sharing the file wait (busy_timeout)
        // instead of failing with SQLITE_BUSY when a read transaction tries to become a write.
      },
      { behavior: "immediate" },
    );
    this.#feed.publish(events);
    return result;
  }

  #bumpVersion(): number {
    const row = this.#sqlite
      .query<{ version: number }, []>(
        "UPDATE config_state SET version = version + 1 WHERE id = 1 RETURNING version",
      )
      .get();
    return row!.version;
  }

  #step(step: BatchStep, events: ChangeEvent[]): unknown {
    const writer = this.#writers[step.entity] as SqliteEntityWriter<EntityName>;
    let result: WriteResult<unknown>;
    switch (step.action) {
      case "insert":
        result = writer.insert(step.input, step.scope);
        break;
      case "update":
        result = writer.update(step.key, step.input, step.scope);
        break;
      case "upsert":
        result = writer.upsert(step.key, step.input, step.scope);
        break;
      case "delete":
        result = writer.delete(step.key, step.scope);
        break;
    }
    events.push(...result.events);
    return result.entity;
  }

  #repository<N extends EntityName>(name: N): EntityRepository<EntityMap[N]> {
    const writer = this.#writers[name];
    const run = <T>(fn: () => T): Promise<T> => {
      try {
        return Promise.resolve(fn());
      } catch (error) {
        return Promise.reject(error);
      }
    };
    const write = (step: BatchStep) => run(() => this.#write((events) => this.#step(step, events)));
    return {
      get: (key, scope) => run(() => writer.find(parseEntityKey(key), scope)),
      page: (query) => run(() => writer.page(query)),
      count: (scope) => run(() => writer.count(scope)),
      all: () => run(() => writer.all()),
      insert: (input, scope) =>
        write({ entity: name, action: "insert", input, scope }) as Promise<EntityMap[N]>,
      update: (key, input, scope) =>
        write({ entity: name, action: "update", key, input, scope }) as Promise<EntityMap[N]>,
      upsert: (key, input, scope) =>
        write({ entity: name, action: "upsert", key, input, scope }) as Promise<EntityMap[N]>,
      delete: (key, scope) =>
        write({ entity: name, action: "delete", key, scope }) as Promise<EntityMap[N] | null>,
    };
  }

  batch(steps: BatchStep[]): Promise<unknown[]> {
    try {
      return Promise.resolve(this.#write((events) => steps.map((step) => this.#step(step, events))));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  configVersion(): Promise<number> {
    const row = this.#sqlite
      .query<{ version: number }, []>("SELECT version FROM config_state WHERE id = 1")
      .get();
    return Promise.resolve(row?.version ?? 0);
  }

  ping(): Promise<boolean> {
    try {
      this.#sqlite.query("SELECT 1").get();
      return Promise.resolve(true);
    } catch {
      return Promise.resolve(false);
    }
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.#feed.subscribe(listener);
  }

  close(): Promise<void> {
    this.#sqlite.close();
    return Promise.resolve();
  }
}

/** Synchronous reads and writes of one entity; only ever called inside SqliteStore's transactions. */
class SqliteEntityWriter<N extends EntityName> {
  readonly #db: SqliteDb;
  readonly #def: EntityDef<N>;
  readonly #table: AnyTable;

  constructor(db: SqliteDb, def: EntityDef<N>) {
    this.#db = db;
    this.#def = def;
    this.#table = TABLES[def.name];
  }

  #col(name: string): SQLiteColumn {
    const column = this.#table[name];
    if (!column) throw new Error(`no column ${name} on ${this.#def.name}`);
    return column;
  }

  #scopeFilter(scope: Scope | undefined): SQL | undefined {
    if (!scope?.service) return undefined;
    return eq(this.#col("service_id"), scope.service);
  }

  #selectOne(where: SQL | undefined): EntityMap[N] | null {
    const row = this.#db.select().from(this.#table).where(where).limit(1).get() as Row | undefined;
    return row ? this.#def.fromRow(row) : null;
  }

  find(key: EntityKey, scope?: Scope): EntityMap[N] | null {
    return this.#selectOne(and(eq(this.#col(key.column), key.value), this.#scopeFilter(scope)));
  }

  all(): EntityMap[N][] {
    const rows = this.#db
      .select()
      .from(this.#table)
      .orderBy(asc(this.#col("id")))
      .all() as Row[];
    return rows.map((row) => this.#def.fromRow(row));
  }

  count(scope?: Scope): number {
    const row = this.#db.select({ n: count() }).from(this.#table).where(this.#scopeFilter(scope)).get();
    return row?.n ?? 0;
  }

  page(query: PageQuery): Page<EntityMap[N]> {
    const after = query.offset !== undefined ? decodeOffset(query.offset) : undefined;
    const filters: (SQL | undefined)[] = [this.#scopeFilter(query.scope)];
    if (after) filters.push(gt(this.#col("id"), after));
    if (query.tags && query.tags.tags.length > 0) {
      const tagsColumn = this.#col("tags");
      const has = (tag: string) => sql`EXISTS (SELECT 1 FROM json_each(${tagsColumn}) WHERE value = ${tag})`;
      const parts = query.tags.tags.map(has);
      filters.push(sql`(${sql.join(parts, query.tags.mode === "and" ? sql` AND ` : sql` OR `)})`);
    }
    const rows = this.#db
      .select()
      .from(this.#table)
      .where(and(...filters))
      .orderBy(asc(this.#col("id")))
      .limit(query.size + 1)
      .all() as Row[];
    const more = rows.length > query.size;
    const data = rows.slice(0, query.size).map((row) => this.#def.fromRow(row));
    return { data, offset: more ? encodeOffset((data[data.length - 1] as { id: string }).id) : null };
  }

  // --- writes ------------------------------------------------------------------------------------

  insert(input: unknown, scope?: Scope): WriteResult<EntityMap[N]> {
    const parsed = this.#validate(withScope(input, scope));
    const now = nowSeconds();
    const entity = { ...parsed, id: (parsed.id as string | undefined) ?? crypto.randomUUID() } as Row;
    entity.created_at = now;
    entity.updated_at = now;
    this.#checkPrimaryKeyFree(entity.id as string);
    return this.#save(entity, "create");
  }

  update(key: string, patch: unknown, scope?: Scope): WriteResult<EntityMap[N]> {
    const entityKey = parseEntityKey(key);
    const existing = this.find(entityKey, scope) as Row | null;
    if (!existing) {
      const message =
        entityKey.column === "id"
          ? `could not find the entity with primary key '${describeKey(entityKey)}'`
          : `could not find the entity with '${describeKey(entityKey)}'`;
      throw new GatewayError("NOT_FOUND", message, { [entityKey.column]: entityKey.value });
    }
    const { id: _id, created_at, updated_at: _u, ...current } = existing;
    const changes = isRecord(patch) ? stripAutoFields(patch) : patch;
    const merged = isRecord(changes) ? { ...current, ...changes } : changes;
    const parsed = this.#validate(withScope(merged, scope));
    const entity = { ...parsed, id: existing.id, created_at, updated_at: nowSeconds() } as Row;
    return this.#save(entity, "update");
  }

  upsert(key: string, input: unknown, scope?: Scope): WriteResult<EntityMap[N]> {
    const entityKey = parseEntityKey(key);
    const existing = this.find(entityKey) as Row | null;
    if (existing && scope?.service && (existing.service as { id: string } | null)?.id !== scope.service)
      throw new GatewayError("NOT_FOUND", "Not found", { [entityKey.column]: entityKey.value });
    // The URL names the entity: its id or name wins over the body's (Kong's observable behaviour).
    const body = isRecord(input) ? { ...stripAutoFields(input), [entityKey.column]: entityKey.value } : input;
    const parsed = this.#validate(withScope(body, scope));
    const now = nowSeconds();
    const id =
      (existing?.id as string | undefined) ?? (parsed.id as string | undefined) ?? crypto.randomUUID();
    const entity = { ...parsed, id, created_at: now, updated_at: now } as Row;
    return this.#save(entity, existing ? "update" : "create");
  }

  delete(key: string, scope?: Scope): WriteResult<EntityMap[N]> {
    const existing = this.find(parseEntityKey(key), scope);
    if (!existing) return { entity: null, events: [] };
    const id = (existing as { id: string }).id;
    for (const ref of this.#def.referencedBy) {
      const table = TABLES[ref.entity];
      const row = this.#db.select({ n: count() }).from(table).where(eq(table[ref.column]!, id)).get();
      if ((row?.n ?? 0) > 0)
        throw new GatewayError(
          "FOREIGN_KEY_VIOLATION",
          `an existing '${ref.entity}' entity references this '${this.#def.name}' entity`,
          { "@referenced_by": ref.entity },
        );
    }
    this.#db
      .delete(this.#table)
      .where(eq(this.#col("id"), id))
      .run();
    return { entity: existing, events: [{ entity: this.#def.name, action: "delete", id, version: 0 }] };
  }

  #validate(input: unknown): Row {
    const result = this.#def.schema.safeParse(input);
    if (!result.success) throw fromZod(result.error);
    const parsed = result.data as Row;
    for (const fk of this.#def.foreignKeys) parsed[fk.field] = this.#resolveForeign(fk, parsed[fk.field]);
    return parsed;
  }

  /** `{id}` must exist (code 4); `{name}` is turned into `{id}` (code 13 when nothing has that name). */
  #resolveForeign(fk: { field: string; entity: EntityName }, ref: unknown): { id: string } | null {
    if (ref === null || ref === undefined) return null;
    const { id, name } = ref as { id?: string; name?: string };
    const table = TABLES[fk.entity];
    if (id !== undefined) {
      const row = this.#db.select({ id: table.id! }).from(table).where(eq(table.id!, id)).get();
      if (!row)
        throw new GatewayError(
          "FOREIGN_KEY_VIOLATION",
          `the foreign key '{id="${id}"}' does not reference an existing '${fk.entity}' entity.`,
          { [fk.field]: { id } },
        );
      return { id };
    }
    const row = this.#db.select({ id: table.id! }).from(table).where(eq(table.name!, name!)).get() as
      | { id: string }
      | undefined;
    if (!row) {
      const message = `the foreign key cannot be resolved with '{name="${name}"}' for an existing '${fk.entity}' entity`;
      throw new GatewayError("FOREIGN_KEYS_UNRESOLVED", message, { [fk.field]: { name: message } });
    }
    return { id: row.id };
  }

  #checkPrimaryKeyFree(id: string): void {
    const row = this.#db
      .select({ id: this.#col("id") })
      .from(this.#table)
      .where(eq(this.#col("id"), id))
      .get();
    if (row)
      throw new GatewayError("PRIMARY_KEY_VIOLATION", `primary key violation on key '{id="${id}"}'`, { id });
  }

  #checkUnique(entity: Row): void {
    const name = entity[this.#def.endpointKey];
    if (name === null || name === undefined) return;
    const row = this.#db
      .select({ id: this.#col("id") })
      .from(this.#table)
      .where(eq(this.#col(this.#def.endpointKey), name as string))
      .get() as { id: string } | undefined;
    if (row && row.id !== entity.id)
      throw new GatewayError(
        "UNIQUE_VIOLATION",
        `UNIQUE violation detected on '{${this.#def.endpointKey}="${String(name)}"}'`,
        { [this.#def.endpointKey]: name },
      );
  }

  /** Inserts or replaces the row with the entity's id, keeping every other rule in one place. */
  #save(entity: Row, action: "create" | "update"): WriteResult<EntityMap[N]> {
    this.#checkUnique(entity);
    const row = this.#def.toRow(entity as EntityMap[N]);
    this.#db
      .insert(this.#table)
      .values(row)
      .onConflictDoUpdate({ target: this.#col("id"), set: row })
      .run();
    const id = entity.id as string;
    return {
      entity: this.#def.fromRow(row),
      events: [{ entity: this.#def.name, action, id, version: 0 }],
    };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** id and timestamps are the store's to set; a body may carry them (Kong echoes) but cannot change them. */
function stripAutoFields(body: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, created_at: _c, updated_at: _u, ...rest } = body;
  return rest;
}

/** Nested endpoints attach the entity to their parent, whatever the body says. */
function withScope(input: unknown, scope: Scope | undefined): unknown {
  if (!scope?.service || !isRecord(input)) return input;
  return { ...input, service: { id: scope.service } };
}
