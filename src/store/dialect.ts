// The small part of the store that differs between databases: connecting, migrating, transactions, and the
// few primitive table operations Kong's rules (store.ts) are written against. Rows use wire column names.
import type {
  CertificatePair,
  ChangeEvent,
  ClusterEvent,
  NodeRecord,
  StoredRateCounters,
  StoreInfo,
  TagFilter,
} from "./contract.ts";
import type { EntityName, Row } from "./entity-def.ts";

/** Column equality filters; null matches NULL. */
export type Filter = Readonly<Record<string, string | number | boolean | null>>;

export type ListQuery = {
  filter?: Filter | undefined;
  /** Only rows whose id sorts after this one (pages are ordered by id). */
  after?: string | undefined;
  limit?: number | undefined;
  tags?: TagFilter | undefined;
};

export interface TableAccess {
  find(entity: EntityName, filter: Filter): Promise<Row | null>;
  list(entity: EntityName, query: ListQuery): Promise<Row[]>;
  /** Every row, ordered by id, read without the query builder (a whole configuration at once). */
  all(entity: EntityName): Promise<Row[]>;
  count(entity: EntityName, filter: Filter, tags?: TagFilter): Promise<number>;
}

/** What a write transaction may do besides reading. */
export interface WriteAccess extends TableAccess {
  /** Inserts the row, or replaces the one with its id. */
  save(entity: EntityName, row: Row): Promise<void>;
  remove(entity: EntityName, id: string): Promise<void>;
  /** Inserts or replaces many rows at once (a declarative apply). */
  saveMany(entity: EntityName, rows: readonly Row[]): Promise<void>;
  removeMany(entity: EntityName, ids: readonly string[]): Promise<void>;
  /** Raises the configuration version by `count` inside the transaction and returns the new value. */
  bumpVersion(count: number): Promise<number>;
  /** Records committed changes for the other nodes (one row per version). */
  recordEvents(events: readonly ChangeEvent[], at: number): Promise<void>;
  /** Forgets recorded changes older than `before` (ms). */
  pruneEvents(before: number): Promise<void>;
}

export interface Dialect {
  readonly info: StoreInfo;
  /** Reads outside any write (they never see a transaction's uncommitted rows). */
  readonly read: TableAccess;
  /**
   * Runs `work` in one transaction: all of it commits or none does. Config writes are serialised (one at a
   * time, cluster-wide on PostgreSQL), so Kong's check-then-write rules cannot race.
   */
  transaction<T>(work: (tx: WriteAccess) => Promise<T>): Promise<T>;
  configVersion(): Promise<number>;
  /** Recorded changes after `version`, in order, at most `limit`. */
  eventsSince(version: number, limit: number): Promise<ChangeEvent[]>;
  /** Stores a message for the other nodes and wakes their watchers. */
  broadcast(event: Omit<ClusterEvent, "id">): Promise<void>;
  /** Stored messages after `id`, in order, at most `limit`. */
  clusterEventsSince(id: number, limit: number): Promise<ClusterEvent[]>;
  lastClusterEventId(): Promise<number>;
  /** Calls `listener` when another connection may have committed; returns a function that stops it. */
  watch(listener: () => void): () => void;
  upsertNode(node: NodeRecord): Promise<void>;
  listNodes(after: string | undefined, limit: number): Promise<NodeRecord[]>;
  deleteNodesBefore(lastSeen: number): Promise<number>;
  /** The stored default certificate, storing `candidate` when there is none. */
  keepDefaultCertificate(candidate: CertificatePair): Promise<CertificatePair>;
  ping(): Promise<boolean>;
  readonly rateCounters: StoredRateCounters;
  close(): Promise<void>;
}
