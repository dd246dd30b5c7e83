// What the admin layer (REST and GraphQL) may use: the store and a few runtime facilities, handed in by
// runtime/ so admin/ never reaches into the data plane.

import type { CacheCommand, CacheReply } from "../schemas/proxy-cache-admin.ts";
import type { TargetHealthChange, UpstreamHealthView } from "../schemas/upstream-health.ts";
import type { Store } from "../store/contract.ts";
import type { EntityName } from "../store/entity-def.ts";
import type { ServiceHealth } from "./service-health.ts";

export type { ServiceHealth } from "./service-health.ts";

/** A bound listener: where it listens and how it speaks (Kong renders these as `configuration.*_listeners`). */
export type ListenerInfo = { host: string; port: number; ssl: boolean; http2: boolean; reuseport: boolean };

export type NodeInfo = {
  version: string;
  hostname: string;
  node_id: string;
  started_at: number;
  /** The listeners' URLs. */
  listeners: { proxy: string; admin: string };
  /** Each listener as bound; status is empty when `--status-listen` is off. */
  listenerInfo: { proxy: ListenerInfo[]; admin: ListenerInfo[]; status: ListenerInfo[] };
  /**
   * Resolves once every listener's port is known: the admin listener answers while proxy workers still start,
   * and a proxy port of 0 is only known once they listen.
   */
  bound: Promise<void>;
  database: { dialect: string; location: string };
  service_management: boolean;
  /** Proxy workers serving this node's proxy listener. */
  workers: number;
};

export type ConfigurationFault = Readonly<{
  entity: EntityName;
  id: string;
  name: string | null;
  message: string;
}>;

export type TrafficCounts = {
  /** Requests being handled right now, per listener. */
  active: { proxy: number; admin: number };
  /** Requests handled since start, per listener. */
  total: { proxy: number; admin: number };
};

/** Declarative configuration on this node (Kong's /config endpoints and DB-less mode). */
export type DeclarativeState = {
  /** DB-less: `store` refuses entity writes; the configuration comes whole from a file or POST /config. */
  readonly dbless: boolean;
  /** Where whole configurations are written: `store` itself, or (DB-less) its writable self. */
  readonly store: Store;
  /** Kong's configuration_hash of the configuration last loaded whole; 32 zeros when none. */
  hash: string;
  /** A whole configuration is being loaded (Kong answers another POST /config with 429). */
  loading: boolean;
  /** The node is shutting down (Kong answers POST /config with 503 `Kong currently exiting`). */
  exiting: boolean;
};

/** What the node's `GET /` needs: the admin listener answers it while the rest of the node still starts. */
export type NodeContext = {
  node: NodeInfo;
  /** Every plugin name configured anywhere, enabled or not, once each, in the store's order (`GET /`). */
  pluginsInUse(): Promise<string[]>;
};

export type AdminContext = NodeContext & {
  store: Store;
  declarative: DeclarativeState;
  /** Version the proxy is serving (may briefly lag the store's). */
  proxyConfigVersion(): number;
  /** Entities the proxy could not build: left out (routes) or failing closed (plugins). */
  configurationFaults(): readonly ConfigurationFault[];
  traffic(): TrafficCounts;
  /** Rebuild the proxy's snapshot from the store now, then probe every enabled service. */
  refreshServices(): Promise<ServiceHealth[]>;
  /** Health results as they are produced (refresh, later health checkers). */
  subscribeHealth(listener: (health: ServiceHealth) => void): () => void;
  /** Kong's /status/ready: whether the node should get traffic, and why not. */
  readiness(): Promise<Readiness>;
  /** Kong's drain: from now on /status/ready answers 503 "draining" (the node keeps serving). */
  drain(): void;
  upstreamHealth: UpstreamHealth;
  /** This node's metrics in the Prometheus text format, summed over its proxy workers. */
  metrics(): Promise<string>;
  /** Runs a proxy-cache command in every proxy worker of this node (each has its own memory): their replies. */
  proxyCache(command: CacheCommand): Promise<CacheReply[]>;
};

/** The node's upstream health checker, as the admin API reads and drives it (health is per node, as Kong's). */
export type UpstreamHealth = {
  /** The health of an upstream's targets; null before the checker has seen the upstream. */
  view(upstreamId: string): UpstreamHealthView | null;
  views(): UpstreamHealthView[];
  /** Kong's manual PUT …/healthy|unhealthy: every address of a target, or one (`ip[:port]`). */
  set(
    upstreamId: string,
    targetId: string,
    address: string | null,
    healthy: boolean,
  ): "ok" | "no-checker" | "not-found";
  /** Each change of an address's health, as it happens. */
  subscribe(listener: (changes: readonly TargetHealthChange[]) => void): () => void;
};

export type Readiness = { ready: true } | { ready: false; reason: string };
