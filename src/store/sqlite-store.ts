// The Store contract on bun:sqlite. bun:sqlite is synchronous, so every write runs start to finish inside
// one synchronous IMMEDIATE transaction (no `await` inside: an async callback would not roll back), and
// change events are published only after the commit. Async preparation (password hashing) runs before.
import type { Database } from "bun:sqlite";
import { and, asc, count, eq, gt, isNull, type SQL, sql } from "drizzle-orm";
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
  fromRow,
  nowSeconds,
  parseEntityKey,
  toRow,
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
  ScopeKey,
  Store,
} from "./repository.ts";
import * as tables from "./tables.ts";

type AnyTable = SQLiteTable & Record<string, SQLiteColumn>;
const TABLES: Record<EntityName, AnyTable> = {
  services: tables.services as unknown as AnyTable,
  routes: tables.routes as unknown as AnyTable,
  consumers: tables.consumers as unknown as AnyTable,
  plugins: tables.plugins as unknown as AnyTable,
  keyauth_credentials: tables.keyauthCredentials as unknown as AnyTable,
  basicauth_credentials: tables.basicauthCredentials as unknown as AnyTable,
  jwt_secrets: tables.jwtSecrets as unknown as AnyTable,
  acls: tables.acls as unknown as AnyTable,
};

type Row = Record<string, unknown>;
type WriteResult = { entity: Row | null; events: ChangeEvent[] };

export function openSqliteStore(location: string): Store {
  const { sqlite, db } = openSqlite(location);
  return new SqliteStore(sqlite, db, location);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class SqliteStore implements Store {
  readonly info;
  readonly services: EntityRepository<EntityMap["services"]>;
  readonly routes: EntityRepository<EntityMap["routes"]>;
  readonly consumers: EntityRepository<EntityMap["consumers"]>;
  readonly plugins: EntityRepository<EntityMap["plugins"]>;
  readonly #feed = new ChangeFeed();
  readonly #sqlite: Database;
  readonly #db: SqliteDb;
  readonly #tables: SqliteTables;
  readonly #repositories = new Map<EntityName, EntityRepository<unknown>>();

  constructor(sqlite: Database, db: SqliteDb, location: string) {
    this.#sqlite = sqlite;
    this.#db = db;
    this.info = { dialect: "sqlite" as const, location };
    this.#tables = new SqliteTables(db);
    this.services = this.entity("services");
    this.routes = this.entity("routes");
    this.consumers = this.entity("consumers");
    this.plugins = this.entity("plugins");
  }

  entity<N extends EntityName>(name: N): EntityRepository<EntityMap[N]> {
    let repository = this.#repositories.get(name);
    if (!repository) {
      repository = this.#repository(name);
      this.#repositories.set(name, repository);
    }
    return repository as EntityRepository<EntityMap[N]>;
  }

  /** Runs `work` in one transaction, bumps the version once per changed entity, publishes after commit. */
  #write<T>(work: (events: ChangeEvent[]) => T): T {
    const events: ChangeEvent[] = [];
    const result = this.#db.transaction(
      () => {
        const value = work(events);
        for (const event of events) event.version = this.#bumpVersion();
        return value;
      },
      // IMMEDIATE takes the write lock up front, so two processes sharing the file wait (busy_timeout)
      // instead of failing with SQLITE_BUSY when a read transaction tries to become a write.
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
    const def = ENTITY_DEFS[step.entity] as EntityDef;
    let result: WriteResult;
    switch (step.action) {
      case "insert":
        result = this.#tables.insert(def, step.input, step.scope);
        break;
      case "update":
        result = this.#tables.update(def, step.key, step.input, step.scope);
        break;
      case "upsert":
        result = this.#tables.upsert(def, step.key, step.input, step.scope);
        break;
      case "delete":
        result = this.#tables.delete(def, step.key, step.scope);
        break;
    }
    events.push(...result.events);
    return result.entity;
  }

  /** Async preparation (hashing) of a step's input, done before the synchronous transaction. */
  async #prepare(step: BatchStep): Promise<BatchStep> {
    const prepare = ENTITY_DEFS[step.entity].prepare;
    if (!prepare || step.action === "delete" || !isRecord(step.input)) return step;
    return { ...step, input: await prepare(step.input) };
  }

  #repository<N extends EntityName>(name: N): EntityRepository<EntityMap[N]> {
    const def = ENTITY_DEFS[name] as EntityDef;
    const read = async <T>(fn: () => T): Promise<T> => fn();
    const write = async (step: BatchStep) => {
      const prepared = await this.#prepare(step);
      return this.#write((events) => this.#step(prepared, events));
    };
    return {
      get: (key, scope) =>
        read(() => this.#tables.find(def, parseEntityKey(def, key, scope), scope) as EntityMap[N] | null),
      page: (query) => read(() => this.#tables.page(def, query) as Page<EntityMap[N]>),
      count: (scope) => read(() => this.#tables.count(def, scope)),
      all: () => read(() => this.#tables.all(def) as EntityMap[N][]),
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

  async batch(steps: BatchStep[]): Promise<unknown[]> {
    const prepared = await Promise.all(steps.map((step) => this.#prepare(step)));
    return this.#write((events) => prepared.map((step) => this.#step(step, events)));
  }

  async configVersion(): Promise<number> {
    const row = this.#sqlite
      .query<{ version: number }, []>("SELECT version FROM config_state WHERE id = 1")
      .get();
    return row?.version ?? 0;
  }

  async ping(): Promise<boolean> {
    try {
      this.#sqlite.query("SELECT 1").get();
      return true;
    } catch {
      return false;
    }
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.#feed.subscribe(listener);
  }

  async close(): Promise<void> {
    this.#sqlite.close();
  }
}

/** Synchronous reads and writes of any entity; writes are only called inside SqliteStore's transactions. */
class SqliteTables {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  #col(def: EntityDef, name: string): SQLiteColumn {
    const column = TABLES[def.name][name];
    if (!column) throw new Error(`no column ${name} on ${def.name}`);
    return column;
  }

  #fkColumn(def: EntityDef, field: string): string | undefined {
    return def.foreignKeys.find((fk) => fk.field === field)?.column;
  }

  /** A scope narrows to children of a parent; a key the entity has no column for matches nothing. */
  #scopeFilter(def: EntityDef, scope: Scope | undefined): SQL | undefined {
    if (!scope) return undefined;
    const filters: SQL[] = [];
    for (const [key, id] of Object.entries(scope) as [ScopeKey, string][]) {
      if (id === undefined) continue;
      const column = this.#fkColumn(def, key);
      filters.push(column ? eq(this.#col(def, column), id) : sql`0`);
    }
    return filters.length > 0 ? and(...filters) : undefined;
  }

  #select(def: EntityDef, where: SQL | undefined): Row | null {
    const row = this.#db.select().from(TABLES[def.name]).where(where).limit(1).get() as Row | undefined;
    return row ? (fromRow(def, row) as Row) : null;
  }

  find(def: EntityDef, key: EntityKey, scope?: Scope): Row | null {
    return this.#select(def, and(eq(this.#col(def, key.column), key.value), this.#scopeFilter(def, scope)));
  }

  all(def: EntityDef): Row[] {
    const rows = this.#db
      .select()
      .from(TABLES[def.name])
      .orderBy(asc(this.#col(def, "id")))
      .all() as Row[];
    return rows.map((row) => fromRow(def, row) as Row);
  }

  count(def: EntityDef, scope?: Scope): number {
    const row = this.#db
      .select({ n: count() })
      .from(TABLES[def.name])
      .where(this.#scopeFilter(def, scope))
      .get();
    return row?.n ?? 0;
  }

  page(def: EntityDef, query: PageQuery): Page<Row> {
    const after = query.offset !== undefined ? decodeOffset(query.offset) : undefined;
    const filters: (SQL | undefined)[] = [this.#scopeFilter(def, query.scope)];
    if (after) filters.push(gt(this.#col(def, "id"), after));
    if (query.tags && query.tags.tags.length > 0) {
      const tagsColumn = this.#col(def, "tags");
      const has = (tag: string) => sql`EXISTS (SELECT 1 FROM json_each(${tagsColumn}) WHERE value = ${tag})`;
      const parts = query.tags.tags.map(has);
      filters.push(sql`(${sql.join(parts, query.tags.mode === "and" ? sql` AND ` : sql` OR `)})`);
    }
    const rows = this.#db
      .select()
      .from(TABLES[def.name])
      .where(and(...filters))
      .orderBy(asc(this.#col(def, "id")))
      .limit(query.size + 1)
      .all() as Row[];
    const more = rows.length > query.size;
    const data = rows.slice(0, query.size).map((row) => fromRow(def, row) as Row);
    return { data, offset: more ? encodeOffset(data[data.length - 1]!.id as string) : null };
  }

  // --- writes ------------------------------------------------------------------------------------

  insert(def: EntityDef, input: unknown, scope?: Scope): WriteResult {
    const parsed = this.#validate(def, withScope(input, scope));
    const now = nowSeconds();
    const entity: Row = {
      ...parsed,
      id: (parsed.id as string | undefined) ?? crypto.randomUUID(),
      created_at: now,
    };
    if (def.hasUpdatedAt) entity.updated_at = now;
    this.#checkPrimaryKeyFree(def, entity.id as string);
    return this.#save(def, entity, "create");
  }

  update(def: EntityDef, key: string, patch: unknown, scope?: Scope): WriteResult {
    const entityKey = parseEntityKey(def, key, scope);
    const existing = this.find(def, entityKey, scope);
    if (!existing) {
      const message =
        entityKey.column === "id"
          ? `could not find the entity with primary key '${describeKey(entityKey)}'`
          : `could not find the entity with '${describeKey(entityKey)}'`;
      throw new GatewayError("NOT_FOUND", message, { [entityKey.column]: entityKey.value });
    }
    const { id: _id, created_at, updated_at: _u, ...current } = existing;
    const changes = isRecord(patch) ? stripAutoFields(patch) : patch;
    const merged = isRecord(changes) ? mergeChanges(def, current, changes) : changes;
    const parsed = this.#validate(def, withScope(merged, scope));
    const entity: Row = { ...parsed, id: existing.id, created_at };
    if (def.hasUpdatedAt) entity.updated_at = nowSeconds();
    return this.#save(def, entity, "update");
  }

  upsert(def: EntityDef, key: string, input: unknown, scope?: Scope): WriteResult {
    const entityKey = parseEntityKey(def, key, scope);
    const existing = this.find(def, entityKey);
    if (existing && scope && !this.find(def, { column: "id", value: existing.id as string }, scope))
      throw new GatewayError("NOT_FOUND", "Not found", { [entityKey.column]: entityKey.value });
    // The URL names the entity: its id or endpoint key wins over the body's (Kong's observable behaviour).
    const body = isRecord(input) ? { ...stripAutoFields(input), [entityKey.column]: entityKey.value } : input;
    const parsed = this.#validate(def, withScope(body, scope));
    const now = nowSeconds();
    const id =
      (existing?.id as string | undefined) ?? (parsed.id as string | undefined) ?? crypto.randomUUID();
    const entity: Row = { ...parsed, id, created_at: now };
    if (def.hasUpdatedAt) entity.updated_at = now;
    return this.#save(def, entity, existing ? "update" : "create");
  }

  delete(def: EntityDef, key: string, scope?: Scope): WriteResult {
    const existing = this.find(def, parseEntityKey(def, key, scope), scope);
    if (!existing) return { entity: null, events: [] };
    return { entity: existing, events: this.#deleteById(def, existing.id as string) };
  }

  /** Refuses when restricted children exist, deletes cascaded children first, then the row. */
  #deleteById(def: EntityDef, id: string): ChangeEvent[] {
    for (const ref of def.referencedBy.filter((r) => r.onDelete === "restrict")) {
      const table = TABLES[ref.entity];
      const row = this.#db.select({ n: count() }).from(table).where(eq(table[ref.column]!, id)).get();
      if ((row?.n ?? 0) > 0)
        throw new GatewayError(
          "FOREIGN_KEY_VIOLATION",
          `an existing '${ref.entity}' entity references this '${def.name}' entity`,
          { "@referenced_by": ref.entity },
        );
    }
    const events: ChangeEvent[] = [];
    for (const ref of def.referencedBy.filter((r) => r.onDelete === "cascade")) {
      const table = TABLES[ref.entity];
      const children = this.#db
        .select({ id: table.id! })
        .from(table)
        .where(eq(table[ref.column]!, id))
        .all() as {
        id: string;
      }[];
      for (const child of children)
        events.push(...this.#deleteById(ENTITY_DEFS[ref.entity] as EntityDef, child.id));
    }
    this.#db
      .delete(TABLES[def.name])
      .where(eq(this.#col(def, "id"), id))
      .run();
    events.push({ entity: def.name, action: "delete", id, version: 0 });
    return events;
  }

  #validate(def: EntityDef, input: unknown): Row {
    const result = def.schema.safeParse(input);
    if (!result.success) throw fromZod(result.error);
    const parsed = result.data as Row;
    for (const fk of def.foreignKeys) parsed[fk.field] = this.#resolveForeign(fk, parsed[fk.field]);
    return parsed;
  }

  /** `{id}` must exist (code 4); `{name}` is turned into `{id}` (code 13 when nothing has that name). */
  #resolveForeign(fk: { field: string; entity: EntityName }, ref: unknown): { id: string } | null {
    if (ref === null || ref === undefined) return null;
    const { id, name } = ref as { id?: string; name?: string };
    const parent = ENTITY_DEFS[fk.entity] as EntityDef;
    if (id !== undefined) {
      if (!this.find(parent, { column: "id", value: id }))
        throw new GatewayError(
          "FOREIGN_KEY_VIOLATION",
          `the foreign key '{id="${id}"}' does not reference an existing '${fk.entity}' entity.`,
          { [fk.field]: { id } },
        );
      return { id };
    }
    const keyField = parent.endpointKey?.field ?? "id";
    const found = name === undefined ? null : this.find(parent, { column: keyField, value: name });
    if (!found) {
      const message = `the foreign key cannot be resolved with '{${keyField}="${name}"}' for an existing '${fk.entity}' entity`;
      throw new GatewayError("FOREIGN_KEYS_UNRESOLVED", message, { [fk.field]: { [keyField]: message } });
    }
    return { id: found.id as string };
  }

  #checkPrimaryKeyFree(def: EntityDef, id: string): void {
    if (this.find(def, { column: "id", value: id }))
      throw new GatewayError("PRIMARY_KEY_VIOLATION", `primary key violation on key '{id="${id}"}'`, { id });
  }

  /** Kong's UNIQUE violation: `{name="x"}`, or for composites `{consumer=null,name="acl",…}`. */
  #checkUnique(def: EntityDef, entity: Row): void {
    for (const group of def.uniques) {
      const values = group.map((field) => entity[field] ?? null);
      // A single optional field left null (an unnamed service) constrains nothing.
      if (group.length === 1 && values[0] === null) continue;
      const filters = group.map((field, i) => {
        const fkColumn = this.#fkColumn(def, field);
        const value = fkColumn ? ((values[i] as { id: string } | null)?.id ?? null) : values[i];
        const column = this.#col(def, fkColumn ?? field);
        return value === null ? isNull(column) : eq(column, value as string);
      });
      const clash = this.#db
        .select({ id: this.#col(def, "id") })
        .from(TABLES[def.name])
        .where(and(...filters))
        .get() as { id: string } | undefined;
      if (!clash || clash.id === entity.id) continue;
      const sorted = [...group].sort();
      const secret = (f: string) => def.secretFields?.includes(f) ?? false;
      const render = (f: string, v: unknown) =>
        secret(f)
          ? "<redacted>"
          : v === null
            ? "null"
            : isRecord(v)
              ? `{id="${(v as { id: string }).id}"}`
              : `"${String(v)}"`;
      const fields = Object.fromEntries(
        sorted.map((f) => [f, secret(f) ? "already in use" : (entity[f] ?? null)]),
      );
      throw new GatewayError(
        "UNIQUE_VIOLATION",
        `UNIQUE violation detected on '{${sorted.map((f) => `${f}=${render(f, entity[f] ?? null)}`).join(",")}}'`,
        fields,
      );
    }
  }

  /** Inserts or replaces the row with the entity's id, keeping every other rule in one place. */
  #save(def: EntityDef, entity: Row, action: "create" | "update"): WriteResult {
    this.#checkUnique(def, entity);
    const row = toRow(def, entity);
    this.#db
      .insert(TABLES[def.name])
      .values(row)
      .onConflictDoUpdate({ target: this.#col(def, "id"), set: row })
      .run();
    return {
      entity: fromRow(def, row) as Row,
      events: [{ entity: def.name, action, id: entity.id as string, version: 0 }],
    };
  }
}

/** Kong's merge_values: nested records merge key by key, anything else (arrays included) is replaced. */
function mergeRecords(
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(patch))
    merged[key] = isRecord(value) && isRecord(current[key]) ? mergeRecords(current[key], value) : value;
  return merged;
}

/** A partial update: top-level fields replace, the entity's mergeable records merge. */
function mergeChanges(def: EntityDef, current: Row, changes: Row): Row {
  const merged = { ...current, ...changes };
  for (const field of def.mergedOnUpdate ?? [])
    if (isRecord(current[field]) && isRecord(changes[field]))
      merged[field] = mergeRecords(current[field] as Row, changes[field] as Row);
  return merged;
}

/** id and timestamps are the store's to set; a body may carry them (Kong echoes) but cannot change them. */
function stripAutoFields(body: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, created_at: _c, updated_at: _u, ...rest } = body;
  return rest;
}

/** Nested endpoints attach the entity to their parent(s), whatever the body says. */
function withScope(input: unknown, scope: Scope | undefined): unknown {
  if (!scope || !isRecord(input)) return input;
  const attached = { ...input };
  for (const [key, id] of Object.entries(scope)) if (id !== undefined) attached[key] = { id };
  return attached;
}
