// A proxy plane: the proxy listener plus the snapshots it serves. One runs in the main thread (--workers 1)
// or in each worker thread (worker-plane.ts); both build snapshots with the same code.
import { PluginInstancePool } from "../plugins/instances.ts";
import { MetricsRegistry, type MetricsSnapshot } from "../plugins/metrics.ts";
import { answerCacheCommand } from "../plugins/proxy-cache/commands.ts";
import { SharedCounters } from "../plugins/rate-counters.ts";
import { BalancerPool } from "../proxy/balancer/balancer-pool.ts";
import type { HealthChange, HealthSink, UnhealthyState } from "../proxy/balancer/health-events.ts";
import {
  buildSnapshot,
  type ConfigFault,
  compileTrustedIps,
  createProxy,
  type SnapshotInput,
} from "../proxy/index.ts";
import { tlsEntries } from "../proxy/tls-entries.ts";
import type { CacheCommand, CacheReply } from "../schemas/proxy-cache-admin.ts";
import type { RateCounters } from "../schemas/rate-windows.ts";
import type { Listen } from "./config.ts";
import type { LogOptions, ThreadLogs } from "./node-logs.ts";
import { ProxyListeners } from "./proxy-listeners.ts";

/** What a plane needs to know; plain data, so it can be posted to a worker thread. */
export type ProxyPlaneOptions = {
  listen: readonly Listen[];
  /** The certificate TLS listeners present when no SNI picks another (PEM); null when none listens on TLS. */
  defaultCertificate: { cert: string; key: string } | null;
  bodyLimit: number;
  version: string;
  trustedIpsSpec: string;
  realIpHeader: string;
  /** Several planes share the port (worker threads, SO_REUSEPORT). */
  reusePort: boolean;
  /** The node's rate-limit counters (SharedCounters' memory), shared by every plane of the node. */
  rateCounters: SharedArrayBuffer;
  /** Each plane opens the node's log files itself. */
  logs: LogOptions;
};

/** The node's health checker as the planes reach it: passive reports in, the current verdicts out. */
export type NodeHealth = { report: HealthSink; state(): UnhealthyState };

export type ServedState = { version: number; faults: readonly ConfigFault[] };

export type Traffic = { active: number; total: number };

/** One plane's (thread's) part of the node's metrics. */
export type PlaneMetrics = { series: MetricsSnapshot; heapUsed: number };

export interface ProxyPlane {
  /** The first listener's port. */
  readonly port: number;
  /** Every listener's port, in `--proxy-listen` order. */
  readonly ports: readonly number[];
  /** Builds and serves a snapshot of `input` everywhere; resolves with what is served then. */
  apply(input: SnapshotInput): Promise<ServedState>;
  /** The version every part of the plane serves (the lowest), and the faults of the latest build. */
  served(): ServedState;
  /** Called whenever `served()` may have changed. */
  onServed(listener: () => void): () => void;
  traffic(): Traffic;
  /** The metrics of every part of the plane (one per worker thread), to be summed. */
  metrics(): Promise<PlaneMetrics[]>;
  /** A proxy-cache command run on every part of the plane (each worker's own memory): one reply each. */
  proxyCache(command: CacheCommand): Promise<CacheReply[]>;
  /** Opens the log files of the plane's worker threads again (SIGUSR1); the caller reopens its own. */
  reopenLogs(): void;
  /** The node's health checker changed its verdict on some addresses. */
  applyHealth(changes: readonly HealthChange[]): void;
  stop(): Promise<void>;
}

/** How long a stopping plane waits for its plugins' cleanup (an http-log batch still being sent). */
const STOP_CLEANUP_MS = 5000;

/**
 * A plane in this thread. `counters` (total, active) is where a worker thread shares its traffic;
 * `clusterCounters` are rate-limiting's database counters (a worker thread reaches them through the main one);
 * `logs` are this thread's log files (the plane writes its access log and error log lines there);
 * `health` is where passive health reports go (the node's checker, or a worker's channel to it).
 */
export function startLocalPlane(
  options: ProxyPlaneOptions,
  log: (line: string) => void,
  counters: Float64Array,
  clusterCounters: RateCounters | null,
  logs: ThreadLogs,
  health: HealthSink | null,
  initialHealth: UnhealthyState = {},
): ProxyPlane {
  const access = logs.access;
  const proxy = createProxy({
    bodyLimit: options.bodyLimit,
    version: options.version,
    trustedIps: compileTrustedIps(options.trustedIpsSpec),
    realIpHeader: options.realIpHeader,
    report: log,
    errorLog: logs.errorLog,
    accessLog:
      access === null
        ? null
        : {
            format: options.logs.accessLogFormat,
            write: (line) => access.write(line),
            writeBytes: (bytes, length) => access.writeBytes(bytes, length),
          },
  });
  const registry = new MetricsRegistry();
  const pool = new PluginInstancePool({
    log,
    localCounters: new SharedCounters(options.rateCounters),
    clusterCounters,
    metrics: registry,
    errorLog: logs.errorLog,
  });
  const balancers = new BalancerPool(health);
  balancers.replaceHealth(initialHealth);
  const listeners = new Set<() => void>();
  const defaultCertificate = options.defaultCertificate;
  const servesTls = defaultCertificate !== null && options.listen.some((l) => l.ssl);
  const initial = defaultCertificate === null ? [] : [{ ...defaultCertificate }];
  const servers = new ProxyListeners(options.listen, options.reusePort, proxy, initial, () => {
    counters[0]!++;
  });
  let tlsSignature = "";
  /** Puts a snapshot's certificates in place (before it counts as served); a failure keeps the old ones. */
  const applyCertificates = async (input: SnapshotInput) => {
    if (!servesTls) return;
    const { entries, signature } = tlsEntries(defaultCertificate, input);
    if (signature === tlsSignature) return;
    try {
      await servers.setTls(entries);
      tlsSignature = signature;
    } catch (error) {
      log(
        `proxy: the new certificates could not be served, the previous ones stay: ${(error as Error).message}`,
      );
    }
  };
  const ports = servers.ports();
  const state = (): ServedState => ({ version: proxy.current().version, faults: proxy.current().faults });
  return {
    port: ports[0]!,
    ports,
    async apply(input) {
      proxy.swap(buildSnapshot(input, pool, balancers));
      await applyCertificates(input);
      for (const listener of listeners) listener();
      return state();
    },
    served: state,
    onServed(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    traffic() {
      counters[1] = servers.pendingRequests();
      return { active: counters[1], total: counters[0]! };
    },
    metrics: async () => [{ series: registry.snapshot(), heapUsed: process.memoryUsage().heapUsed }],
    proxyCache: async (command) => [await answerCacheCommand(command)],
    reopenLogs() {},
    applyHealth: (changes) => balancers.applyHealth(changes),
    async stop() {
      await servers.stop();
      proxy.flushLogs();
      // Log plugins hand over what they still hold (http-log's queue sends its waiting batch once).
      proxy.retire();
      await pool.settled(STOP_CLEANUP_MS);
      balancers.close();
    },
  };
}
