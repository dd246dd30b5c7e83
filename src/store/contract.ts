// The dialect-neutral store contract. Admin code (REST, GraphQL) and runtime/ speak only this; the one
// implementation (store.ts) holds Kong's rules over a small dialect part (SQLite or PostgreSQL).
import type { RateCounters } from "../schemas/rate-windows.ts";
import type { EntityMap, EntityName, Row, Scope } from "./entity-def.ts";

export type { EntityMap, EntityName, Scope } from "./entity-def.ts";

export type ChangeAction = "create" | "update" | "delete";

/** Emitted after every committed write; the data plane and GraphQL subscriptions listen to it. */
export type ChangeEvent = {
  entity: EntityName;
  action: ChangeAction;
  id: string;
  version: number;
};

/** A message for every other node that is not configuration (Kong's cluster_events). */
export type ClusterEvent = {
  id: number;
  channel: string;
  data: string;
  /** The store that sent it. */
  origin: string;
  /** Unix milliseconds. */
  at: number;
};

export type TagFilter = { mode: "and" | "or"; tags: string[] };

export type PageQuery = {
  size: number;
  /** Opaque cursor from a previous page. */
  offset?: string | undefined;
  tags?: TagFilter | undefined;
  /**
   * Narrows to children of one parent, e.g. `{ service: id }` for `/services/{s}/routes`: lookups outside
   * the scope are "not found" and writes are attached to the parent.
   */
  scope?: Scope | undefined;
};

export type Page<E> = { data: E[]; offset: string | null };

export interface EntityRepository<E> {
  /** `key` is an id (when it looks like a UUID) or the entity's endpoint key (`name`). */
  get(key: string, scope?: Scope): Promise<E | null>;
  page(query: PageQuery): Promise<Page<E>>;
  count(scope?: Scope, tags?: TagFilter): Promise<number>;
  all(): Promise<E[]>;
  insert(input: unknown, scope?: Scope): Promise<E>;
  /** Partial update (Kong PATCH): merge, then validate the whole entity. Missing → NOT_FOUND (code 6). */
  update(key: string, patch: unknown, scope?: Scope): Promise<E>;
  /** Full replacement (Kong PUT): creates when missing, keeps the id when replacing by name. */
  upsert(key: string, input: unknown, scope?: Scope): Promise<E>;
  /** Returns the deleted entity, or null when there was none (Kong answers 204 either way). */
  delete(key: string, scope?: Scope): Promise<E | null>;
}

/** One step of an atomic batch: all steps commit together or none does. */
export type BatchStep =
  | { entity: EntityName; action: "insert"; input: unknown; scope?: Scope }
  | { entity: EntityName; action: "update" | "upsert"; key: string; input: unknown; scope?: Scope }
  | { entity: EntityName; action: "delete"; key: string; scope?: Scope };

/**
 * A write whose rules (schema, references, uniqueness, restrict and cascade) the caller has already checked
 * against the whole configuration as of one version: a declarative apply, thousands of entities at once.
 * `row` is the complete entity as rendered (id, timestamps, foreign keys as `{id}`).
 */
export type VerifiedOperation =
  | { entity: EntityName; action: "create" | "update"; id: string; row: Row }
  | { entity: EntityName; action: "delete"; id: string };

export type StoreInfo = { dialect: "sqlite" | "postgres"; location: string };

/** A node serving this configuration, as it last reported itself (Kong's clustering_data_planes). */
export type NodeRecord = {
  id: string;
  hostname: string;
  /** Portico's version. */
  version: string;
  /** The configuration version its proxy serves. */
  config_version: number;
  /** Unix seconds. */
  started_at: number;
  last_seen: number;
  workers: number;
};

/** The nodes that share this database. */
export interface NodeRegistry {
  /** Records (or refreshes) a node's row. */
  heartbeat(node: NodeRecord): Promise<void>;
  page(query: { size: number; offset?: string | undefined }): Promise<Page<NodeRecord>>;
  /** Forgets nodes not seen since `before` (Unix seconds). */
  purge(before: number): Promise<number>;
}

/** rate-limiting's `cluster` policy counters, kept in the gateway's database (Kong's ratelimiting_metrics). */
export interface StoredRateCounters extends RateCounters {
  /** Deletes the counters whose lifetime is over; returns how many. */
  purgeExpired(): Promise<number>;
}

export interface Store {
  readonly info: StoreInfo;
  /** Any entity's repository by its DAO name. */
  entity<N extends EntityName>(name: N): EntityRepository<EntityMap[N]>;
  /** Runs several writes in one transaction (e.g. the seed library's service + route). */
  batch(steps: BatchStep[]): Promise<unknown[]>;
  /**
   * Writes verified operations in one transaction, in order (consecutive ones of an entity in bulk); throws
   * ConfigurationMoved, changing nothing, when the configuration version is no longer `expectVersion`.
   */
  writeVerified(expectVersion: number, operations: readonly VerifiedOperation[]): Promise<void>;
  /** The configuration version: bumped by every write, on this node or (cluster) another. */
  configVersion(): Promise<number>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  /** Rate-limit counters shared by every node using this database. */
  readonly rateCounters: StoredRateCounters;
  /**
   * Every committed change, wherever it was written (this node, another node, another process on the same
   * SQLite file), in version order. This node's own writes arrive right after they commit; others' once
   * `sync` has read them.
   */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  /** Reads the changes committed since the last one delivered and delivers them (cheap when there are none). */
  sync(): Promise<void>;
  /**
   * Sends a message to every other node (and process) using this database: their `onBroadcast` listeners get
   * it on their next `sync`, which on PostgreSQL a notification makes immediate. Not to this store itself.
   */
  broadcast(channel: string, data: string): Promise<void>;
  /** Receives the other nodes' broadcasts, in the order they were stored. */
  onBroadcast(listener: (channel: string, data: string) => void): () => void;
  /** Calls `listener` when another connection may have committed (PostgreSQL NOTIFY, SQLite data_version). */
  watch(listener: () => void): () => void;
  readonly nodes: NodeRegistry;
  /**
   * The default TLS certificate kept in the database; `generate` makes one when none is stored yet (the
   * first node to store one wins, and every node then uses it).
   */
  defaultCertificate(generate: () => Promise<CertificatePair>): Promise<CertificatePair>;
  close(): Promise<void>;
}

/** A PEM certificate (chain) and its private key. */
export type CertificatePair = { cert: string; key: string };

export type StoreOptions = {
  /**
   * Called synchronously after a write commits, in the caller's async context, with the events it produced
   * (the runtime uses it to answer a write once the proxy serves it).
   */
  onCommit?(events: readonly ChangeEvent[]): void;
};
