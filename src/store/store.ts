// Kong's rules, once, over any dialect: name-or-id lookups, foreign keys (resolution, restrict, cascade),
// unique groups, PUT/PATCH semantics with config merging, pagination and tag filters, atomic batches, and a
// configuration version bumped in the same transaction as every write. Change events are published only
// after the commit. Async preparation (password hashing) runs before the transaction.
import { GatewayError } from "../errors.ts";
import { parseInput } from "../schemas/from-zod.ts";
import { ChangeFeed } from "./change-feed.ts";
import type {
  BatchStep,
  CertificatePair,
  ChangeEvent,
  EntityRepository,
  NodeRegistry,
  Page,
  PageQuery,
  Store,
  StoredRateCounters,
  StoreOptions,
  TagFilter,
  VerifiedOperation,
} from "./contract.ts";
import type { Dialect, Filter, TableAccess, WriteAccess } from "./dialect.ts";
import { definitionOf, fieldReferencesTo, referencesTo } from "./entities/index.ts";
import {
  decodeOffset,
  describeKey,
  type EntityDefinition,
  type EntityKey,
  type EntityMap,
  type EntityName,
  encodeOffset,
  fromRow,
  isRecord,
  parseEntityKey,
  type Row,
  referencedBy,
  type Scope,
  timestampNow,
  toRow,
  uniqueViolation,
} from "./entity-def.ts";
import { Serial } from "./serial.ts";

type WriteResult = { entity: Row | null; events: ChangeEvent[] };

/** Recorded changes are kept this long for nodes that were briefly away (a full rebuild covers longer gaps). */
const EVENT_RETENTION_MS = 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 1000;
const SYNC_PAGE = 1000;
/** How long a read waits for the database before the admin API answers 503 (well within a second). */
const READ_DEADLINE_MS = 750;
/** After the database failed to answer, writes already queued fail at once for this long (not one deadline each). */
const FAIL_FAST_MS = 1000;

export async function createStore(dialect: Dialect, options: StoreOptions = {}): Promise<Store> {
  const store = new KongStore(dialect, options);
  await store.start();
  return store;
}

class KongStore implements Store {
  readonly info;
  readonly nodes: NodeRegistry;
  readonly #dialect: Dialect;
  readonly #options: StoreOptions;
  readonly #feed = new ChangeFeed();
  readonly #repositories = new Map<EntityName, EntityRepository<unknown>>();
  /** Deliveries happen one at a time, so subscribers see versions in order. */
  readonly #delivery = new Serial();
  /**
   * This node's writes take turns before they reach the database (which serialises them anyway): a write's
   * deadline then measures the database's answer, not the queue of writes ahead of it.
   */
  readonly #writes = new Serial();
  /** When the database last failed to answer: writes queued behind that failure fail fast for a moment. */
  #failedAt = Number.NEGATIVE_INFINITY;
  /** The last version delivered to subscribers. */
  #delivered = 0;
  /** This store's name on the cluster events it sends (it skips them when reading). */
  readonly #origin = crypto.randomUUID();
  readonly #broadcastListeners = new Set<(channel: string, data: string) => void>();
  /** The last cluster event read. */
  #clusterSeen = 0;
  #prunedAt = 0;

  constructor(dialect: Dialect, options: StoreOptions) {
    this.#dialect = dialect;
    this.#options = options;
    this.info = dialect.info;
    this.nodes = {
      heartbeat: (node) => this.#guard(() => dialect.upsertNode(node)),
      page: async ({ size, offset }) => {
        const after = offset !== undefined ? decodeOffset(offset) : undefined;
        const rows = await this.#guard(() => dialect.listNodes(after, size + 1));
        const data = rows.slice(0, size);
        return { data, offset: rows.length > size ? encodeOffset(data[data.length - 1]!.id) : null };
      },
      purge: (before) => this.#guard(() => dialect.deleteNodesBefore(before)),
    };
  }

  async start(): Promise<void> {
    this.#delivered = await this.#dialect.configVersion();
    this.#clusterSeen = await this.#dialect.lastClusterEventId();
  }

  entity<N extends EntityName>(name: N): EntityRepository<EntityMap[N]> {
    let repository = this.#repositories.get(name);
    if (!repository) {
      repository = this.#repository(name);
      this.#repositories.set(name, repository);
    }
    return repository as EntityRepository<EntityMap[N]>;
  }

  /**
   * Runs the steps in one transaction, which raises the version by one per changed entity and records the
   * changes for other nodes; after the commit the caller is told (onCommit) and subscribers get the events.
   */
  async #write(steps: BatchStep[]): Promise<unknown[]> {
    const prepared = await Promise.all(steps.map(prepare));
    return this.#transact(steps.length, undefined, async (tx, events) => {
      const rules = new Rules(tx);
      const out: unknown[] = [];
      for (const step of prepared) {
        const result = await rules.step(step);
        events.push(...result.events);
        out.push(result.entity);
      }
      return out;
    });
  }

  /**
   * One write transaction: `work` fills `events`; the version rises by one per event (refused, and rolled
   * back, when `expectVersion` is given and the configuration moved since), the events are recorded for the
   * other nodes, and after the commit the caller is told (onCommit) and subscribers get them.
   */
  async #transact<T>(
    size: number,
    expectVersion: number | undefined,
    work: (tx: WriteAccess, events: ChangeEvent[]) => Promise<T>,
  ): Promise<T> {
    const events: ChangeEvent[] = [];
    // Past the deadline the caller is told 503: a transaction that only gets to run later (the connection
    // came back) must then roll back rather than apply a write that was answered as refused.
    let abandoned = false;
    const giveUpIfAbandoned = () => {
      if (abandoned) throw unavailable("the write was abandoned after its deadline");
    };
    const results = await this.#writes.run(() => {
      if (performance.now() - this.#failedAt < FAIL_FAST_MS)
        throw unavailable("the database did not answer the write before this one");
      return this.#guard(
        () =>
          this.#dialect.transaction(async (tx) => {
            giveUpIfAbandoned();
            events.length = 0;
            const out = await work(tx, events);
            if (events.length > 0 || expectVersion !== undefined) {
              const top = await tx.bumpVersion(events.length);
              if (expectVersion !== undefined && top - events.length !== expectVersion)
                throw new ConfigurationMoved();
              events.forEach((event, i) => {
                event.version = top - events.length + 1 + i;
              });
              const now = Date.now();
              if (events.length > 0) await tx.recordEvents(events, now);
              if (now - this.#prunedAt > PRUNE_EVERY_MS) {
                this.#prunedAt = now;
                await tx.pruneEvents(now - EVENT_RETENTION_MS);
              }
            }
            giveUpIfAbandoned();
            return out;
          }),
        READ_DEADLINE_MS + size * 2,
        () => {
          abandoned = true;
        },
      );
    });
    if (events.length > 0) {
      this.#options.onCommit?.(events);
      await this.#deliver(events);
    }
    return results;
  }

  writeVerified(expectVersion: number, operations: readonly VerifiedOperation[]): Promise<void> {
    return this.#transact(operations.length, expectVersion, async (tx, events) => {
      // Consecutive operations of one kind on one entity go to the database as one statement per chunk.
      for (let i = 0; i < operations.length; ) {
        const first = operations[i]!;
        let j = i;
        while (
          j < operations.length &&
          operations[j]!.entity === first.entity &&
          (operations[j]!.action === "delete") === (first.action === "delete")
        )
          j++;
        const group = operations.slice(i, j);
        const def = definitionOf(first.entity) as EntityDefinition;
        try {
          if (first.action === "delete")
            await tx.removeMany(
              first.entity,
              group.map((op) => op.id),
            );
          else
            await tx.saveMany(
              first.entity,
              group.map((op) => toRow(def, (op as { row: Row }).row)),
            );
        } catch (error) {
          throw constraintViolation(error) ?? error;
        }
        for (const op of group) events.push({ entity: op.entity, action: op.action, id: op.id, version: 0 });
        i = j;
      }
    });
  }

  /** Delivers this node's own events at once when nothing is pending before them, else reads the gap first. */
  #deliver(local: ChangeEvent[]): Promise<void> {
    return this.#delivery.run(async () => {
      if (local[0]!.version === this.#delivered + 1) return this.#publish(local);
      try {
        await this.#readAndPublish();
      } catch {
        // The database answered the commit a moment ago; if it fails now, deliver ours rather than nothing.
        this.#publish(local.filter((e) => e.version > this.#delivered));
      }
    });
  }

  #publish(events: readonly ChangeEvent[]): void {
    if (events.length === 0) return;
    this.#delivered = events[events.length - 1]!.version;
    this.#feed.publish(events);
  }

  async #readAndPublish(): Promise<void> {
    for (;;) {
      const events = await this.#dialect.eventsSince(this.#delivered, SYNC_PAGE);
      this.#publish(events);
      if (events.length < SYNC_PAGE) return;
    }
  }

  sync(): Promise<void> {
    return this.#delivery.run(() =>
      this.#guard(async () => {
        await this.#readAndPublish();
        await this.#readBroadcasts();
      }),
    );
  }

  broadcast(channel: string, data: string): Promise<void> {
    return this.#guard(() =>
      this.#dialect.broadcast({ channel, data, origin: this.#origin, at: Date.now() }),
    );
  }

  onBroadcast(listener: (channel: string, data: string) => void): () => void {
    this.#broadcastListeners.add(listener);
    return () => this.#broadcastListeners.delete(listener);
  }

  async #readBroadcasts(): Promise<void> {
    for (;;) {
      const events = await this.#dialect.clusterEventsSince(this.#clusterSeen, SYNC_PAGE);
      for (const event of events) {
        this.#clusterSeen = event.id;
        if (event.origin === this.#origin) continue;
        for (const listener of this.#broadcastListeners) {
          try {
            listener(event.channel, event.data);
          } catch (error) {
            console.error("cluster event listener failed:", error);
          }
        }
      }
      if (events.length < SYNC_PAGE) return;
    }
  }

  watch(listener: () => void): () => void {
    return this.#dialect.watch(listener);
  }

  /**
   * A database operation, bounded in time: a database that is down or does not answer is Kong's code 8 as a
   * 503 (the proxy keeps serving), not a masked 500 nor a hanging admin request.
   */
  async #guard<T>(
    operation: () => Promise<T>,
    deadlineMs = READ_DEADLINE_MS,
    onDeadline: () => void = () => {},
  ): Promise<T> {
    // An embedded SQLite file cannot stop answering halfway; only a server can.
    if (this.info.dialect === "sqlite") deadlineMs = Number.POSITIVE_INFINITY;
    let timer: Timer | undefined;
    const deadline = new Promise<never>((_, reject) => {
      if (Number.isFinite(deadlineMs))
        timer = setTimeout(() => {
          onDeadline();
          reject(unavailable(`the database did not answer within ${deadlineMs} ms`));
        }, deadlineMs);
    });
    try {
      const result = await Promise.race([operation(), deadline]);
      this.#failedAt = Number.NEGATIVE_INFINITY;
      return result;
    } catch (error) {
      if (error instanceof GatewayError) {
        // Kong's rule errors mean the database answered.
        this.#failedAt = error.kind === "DATABASE_UNAVAILABLE" ? performance.now() : Number.NEGATIVE_INFINITY;
        throw error;
      }
      if (await this.#reachable()) throw error;
      this.#failedAt = performance.now();
      throw unavailable((error as { cause?: Error }).cause?.message ?? (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  async #reachable(): Promise<boolean> {
    const timeout = Bun.sleep(500).then(() => false);
    return Promise.race([this.#dialect.ping().catch(() => false), timeout]);
  }

  #repository<N extends EntityName>(name: N): EntityRepository<EntityMap[N]> {
    const def = definitionOf(name) as EntityDefinition;
    const reads = new Rules(this.#dialect.read);
    const one = async (step: BatchStep) => (await this.#write([step]))[0];
    const read = <T>(operation: () => Promise<T>) => this.#guard(operation);
    return {
      get: (key, scope) =>
        read(() => reads.find(def, parseEntityKey(def, key, scope), scope)) as Promise<EntityMap[N] | null>,
      page: (query) => read(() => reads.page(def, query)) as Promise<Page<EntityMap[N]>>,
      count: (scope, tags) => read(() => reads.count(def, scope, tags)),
      all: () => read(() => reads.all(def)) as Promise<EntityMap[N][]>,
      insert: (input, scope) =>
        one({ entity: name, action: "insert", input, scope }) as Promise<EntityMap[N]>,
      update: (key, input, scope) =>
        one({ entity: name, action: "update", key, input, scope }) as Promise<EntityMap[N]>,
      upsert: (key, input, scope) =>
        one({ entity: name, action: "upsert", key, input, scope }) as Promise<EntityMap[N]>,
      delete: (key, scope) =>
        one({ entity: name, action: "delete", key, scope }) as Promise<EntityMap[N] | null>,
    };
  }

  batch(steps: BatchStep[]): Promise<unknown[]> {
    return this.#write(steps);
  }

  async defaultCertificate(generate: () => Promise<CertificatePair>): Promise<CertificatePair> {
    // Generating costs milliseconds (an ECDSA key), so the candidate is made even when one is stored.
    const candidate = await generate();
    return this.#guard(() => this.#dialect.keepDefaultCertificate(candidate));
  }

  configVersion(): Promise<number> {
    return this.#guard(() => this.#dialect.configVersion());
  }

  ping(): Promise<boolean> {
    return this.#reachable();
  }

  get rateCounters(): StoredRateCounters {
    return this.#dialect.rateCounters;
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.#feed.subscribe(listener);
  }

  close(): Promise<void> {
    return this.#dialect.close();
  }
}

/** The configuration moved between a verified write's reads and its transaction: read again and retry. */
export class ConfigurationMoved extends Error {
  constructor() {
    super("the configuration changed while the write was prepared");
  }
}

/**
 * A constraint the database enforced where the caller's checks could not see it (two entities trading names
 * in one apply): Kong's error kind with the database's own words, the transaction rolled back.
 */
function constraintViolation(error: unknown): GatewayError | null {
  // PostgreSQL's SQLSTATE is in Bun.SQL's errno: on the error itself from a plain statement (bulk writes), in
  // its cause when drizzle wrapped it.
  type DriverError = { cause?: DriverError; errno?: string; message?: string };
  const driver = (error as DriverError).cause ?? (error as DriverError);
  const message = driver.message ?? "";
  const code = driver.errno;
  if (code === "23505" || /UNIQUE constraint failed/.test(message))
    return new GatewayError("UNIQUE_VIOLATION", `UNIQUE violation detected by the database: ${message}`);
  if (code === "23503" || /FOREIGN KEY constraint failed/.test(message))
    return new GatewayError(
      "FOREIGN_KEY_VIOLATION",
      `foreign key violation detected by the database: ${message}`,
    );
  return null;
}

function unavailable(reason: string): GatewayError {
  return new GatewayError("DATABASE_UNAVAILABLE", `database unavailable: ${reason}`);
}

/** Async preparation (hashing) of a step's input, done before the transaction. */
async function prepare(step: BatchStep): Promise<BatchStep> {
  const work = definitionOf(step.entity).prepare;
  if (!work || step.action === "delete" || !isRecord(step.input)) return step;
  return { ...step, input: await work(step.input) };
}

/** The filter a scope adds; a scope key the entity has no foreign key for matches nothing. */
function scopeFilter(def: EntityDefinition, scope: Scope | undefined): Filter | null {
  const filter: Record<string, string> = {};
  for (const [key, id] of Object.entries(scope ?? {})) {
    if (id === undefined) continue;
    const fk = def.foreignKeys.find((f) => f.field === key);
    if (!fk) return null;
    filter[fk.column] = id;
  }
  return filter;
}

/** Kong's rules against one view of the tables: reads anywhere, writes only inside a transaction. */
class Rules {
  readonly #db: TableAccess;

  constructor(db: TableAccess) {
    this.#db = db;
  }

  get #tx(): WriteAccess {
    return this.#db as WriteAccess;
  }

  async find(def: EntityDefinition, key: EntityKey, scope?: Scope): Promise<Row | null> {
    const filter = scopeFilter(def, scope);
    if (filter === null) return null;
    const row = await this.#db.find(def.name, { ...filter, [key.column]: key.value });
    return row ? (fromRow(def, row) as Row) : null;
  }

  async all(def: EntityDefinition): Promise<Row[]> {
    return (await this.#db.all(def.name)).map((row) => fromRow(def, row) as Row);
  }

  async count(def: EntityDefinition, scope?: Scope, tags?: TagFilter): Promise<number> {
    const filter = scopeFilter(def, scope);
    return filter === null ? 0 : this.#db.count(def.name, filter, tags);
  }

  async page(def: EntityDefinition, query: PageQuery): Promise<Page<Row>> {
    const after = query.offset !== undefined ? decodeOffset(query.offset) : undefined;
    const filter = scopeFilter(def, query.scope);
    if (filter === null) return { data: [], offset: null };
    const rows = await this.#db.list(def.name, { filter, after, limit: query.size + 1, tags: query.tags });
    const more = rows.length > query.size;
    const data = rows.slice(0, query.size).map((row) => fromRow(def, row) as Row);
    return { data, offset: more ? encodeOffset(data[data.length - 1]!.id as string) : null };
  }

  // --- writes (inside a transaction) ---------------------------------------------------------------

  step(step: BatchStep): Promise<WriteResult> {
    const def = definitionOf(step.entity) as EntityDefinition;
    switch (step.action) {
      case "insert":
        return this.insert(def, step.input, step.scope);
      case "update":
        return this.update(def, step.key, step.input, step.scope);
      case "upsert":
        return this.upsert(def, step.key, step.input, step.scope);
      case "delete":
        return this.delete(def, step.key, step.scope);
    }
  }

  async insert(def: EntityDefinition, input: unknown, scope?: Scope): Promise<WriteResult> {
    const parsed = await this.#validate(def, withScope(input, scope));
    const now = timestampNow(def);
    const entity: Row = {
      ...parsed,
      id: (parsed.id as string | undefined) ?? crypto.randomUUID(),
      created_at: now,
    };
    if (def.timestamps.updatedAt) entity.updated_at = now;
    if (await this.#db.find(def.name, { id: entity.id as string }))
      throw new GatewayError("PRIMARY_KEY_VIOLATION", `primary key violation on key '{id="${entity.id}"}'`, {
        id: entity.id,
      });
    return this.#save(def, entity, "create");
  }

  async update(def: EntityDefinition, key: string, patch: unknown, scope?: Scope): Promise<WriteResult> {
    const entityKey = parseEntityKey(def, key, scope);
    const existing = await this.find(def, entityKey, scope);
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
    const parsed = await this.#validate(def, withScope(merged, scope));
    const entity: Row = { ...parsed, id: existing.id, created_at };
    if (def.timestamps.updatedAt) entity.updated_at = timestampNow(def);
    return this.#save(def, entity, "update");
  }

  async upsert(def: EntityDefinition, key: string, input: unknown, scope?: Scope): Promise<WriteResult> {
    const entityKey = parseEntityKey(def, key, scope);
    const existing = await this.find(def, entityKey);
    if (existing && scope && !(await this.find(def, { column: "id", value: existing.id as string }, scope)))
      throw new GatewayError("NOT_FOUND", "Not found", { [entityKey.column]: entityKey.value });
    // The URL names the entity: its id or endpoint key wins over the body's (Kong's observable behaviour).
    const body = isRecord(input) ? { ...stripAutoFields(input), [entityKey.column]: entityKey.value } : input;
    const parsed = await this.#validate(def, withScope(body, scope));
    const now = timestampNow(def);
    const id =
      (existing?.id as string | undefined) ?? (parsed.id as string | undefined) ?? crypto.randomUUID();
    const entity: Row = { ...parsed, id, created_at: now };
    if (def.timestamps.updatedAt) entity.updated_at = now;
    return this.#save(def, entity, existing ? "update" : "create");
  }

  async delete(def: EntityDefinition, key: string, scope?: Scope): Promise<WriteResult> {
    const existing = await this.find(def, parseEntityKey(def, key, scope), scope);
    if (!existing) return { entity: null, events: [] };
    return { entity: existing, events: await this.#deleteById(def, existing.id as string) };
  }

  /** Refuses when restricted children exist, deletes cascaded children first, then the row. */
  async #deleteById(def: EntityDefinition, id: string): Promise<ChangeEvent[]> {
    const references = referencesTo(def.name);
    for (const ref of references.filter((r) => r.onDelete === "restrict"))
      if ((await this.#db.count(ref.child, { [ref.column]: id })) > 0) throw referencedBy(def, ref.child);
    await this.#checkFieldReferences(def, id);
    const events: ChangeEvent[] = [];
    for (const ref of references.filter((r) => r.onDelete === "cascade")) {
      const children = await this.#db.list(ref.child, { filter: { [ref.column]: id } });
      for (const child of children)
        events.push(
          ...(await this.#deleteById(definitionOf(ref.child) as EntityDefinition, child.id as string)),
        );
    }
    await this.#tx.remove(def.name, id);
    events.push({ entity: def.name, action: "delete", id, version: 0 });
    return events;
  }

  async #validate(def: EntityDefinition, input: unknown): Promise<Row> {
    const parsed = parseInput(def.schema, input) as Row;
    for (const fk of def.foreignKeys) parsed[fk.field] = await this.#resolveForeign(fk, parsed[fk.field]);
    for (const ref of def.references ?? []) {
      const value = parsed[ref.field];
      if (value === null || value === undefined) continue;
      if (ref.shape === "record") parsed[ref.field] = await this.#resolveForeign(ref, value);
      else for (const given of value as string[]) await this.#resolveForeign(ref, { id: given });
    }
    return parsed;
  }

  /**
   * Refuses to delete an entity that a JSON-field reference still names. These fields have no column to
   * filter on, so the referring rows are read and looked through (certificates are deleted rarely).
   */
  async #checkFieldReferences(def: EntityDefinition, id: string): Promise<void> {
    for (const ref of fieldReferencesTo(def.name)) {
      const rows = await this.#db.list(ref.child, {});
      const naming = rows.find((row) => {
        const value = row[ref.field];
        return ref.shape === "record"
          ? (value as { id?: string } | null)?.id === id
          : Array.isArray(value) && value.includes(id);
      });
      if (naming === undefined) continue;
      if (ref.onDelete === "restrict") throw referencedBy(def, ref.child);
      // Kong's ca_certificates DAO: "ca certificate <id> is still referenced by services (id = <id>)".
      throw new GatewayError(
        "REFERENCED_BY_OTHERS",
        `ca certificate ${id} is still referenced by ${ref.child} (id = ${naming.id as string})`,
      );
    }
  }

  /** `{id}` must exist (code 4); `{name}` / `{username}` becomes `{id}` (code 13 when nothing has it). */
  async #resolveForeign(
    fk: { field: string; entity: EntityName },
    ref: unknown,
  ): Promise<{ id: string } | null> {
    if (ref === null || ref === undefined) return null;
    const given = ref as Record<string, string | undefined>;
    const parent = definitionOf(fk.entity) as EntityDefinition;
    if (given.id !== undefined) {
      if (!(await this.#db.find(fk.entity, { id: given.id })))
        throw new GatewayError(
          "FOREIGN_KEY_VIOLATION",
          `the foreign key '{id="${given.id}"}' does not reference an existing '${fk.entity}' entity.`,
          { [fk.field]: { id: given.id } },
        );
      return { id: given.id };
    }
    // By the parent's endpoint key, under its own name or as `name` (accepted for every parent).
    const keyField = parent.endpointKey?.field ?? "id";
    const [named, value] = given[keyField] !== undefined ? [keyField, given[keyField]] : ["name", given.name];
    const found = value === undefined ? null : await this.#db.find(fk.entity, { [keyField]: value });
    if (!found) {
      const message = `the foreign key cannot be resolved with '{${named}="${value}"}' for an existing '${fk.entity}' entity`;
      throw new GatewayError("FOREIGN_KEYS_UNRESOLVED", message, { [fk.field]: { [named]: message } });
    }
    return { id: found.id as string };
  }

  /** Kong's UNIQUE violation: `{name="x"}`, or for composites `{consumer=null,name="acl",…}`. */
  async #checkUnique(def: EntityDefinition, entity: Row): Promise<void> {
    for (const group of def.uniques) {
      const values = group.map((field) => entity[field] ?? null);
      // A single optional field left null (an unnamed service) constrains nothing.
      if (group.length === 1 && values[0] === null) continue;
      const filter: Record<string, string | number | boolean | null> = {};
      group.forEach((field, i) => {
        const fk = def.foreignKeys.find((f) => f.field === field);
        filter[fk?.column ?? field] = fk
          ? ((values[i] as { id: string } | null)?.id ?? null)
          : (values[i] as string | number | boolean | null);
      });
      const clash = await this.#db.find(def.name, filter);
      if (!clash || clash.id === entity.id) continue;
      throw uniqueViolation(def, group, entity);
    }
  }

  /** Inserts or replaces the row with the entity's id, keeping every other rule in one place. */
  async #save(def: EntityDefinition, entity: Row, action: "create" | "update"): Promise<WriteResult> {
    await this.#checkUnique(def, entity);
    const row = toRow(def, entity);
    await this.#tx.save(def.name, row);
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
function mergeChanges(def: EntityDefinition, current: Row, changes: Row): Row {
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
