// startGateway(): the one place that joins the planes. Opens the store, starts the proxy plane (in this
// thread, or N worker threads on one port) and the admin listener, keeps the proxy's snapshot in step with
// the configuration wherever it is written, records the node in the shared database, and stops gracefully.
import { hostname } from "node:os";
import type { Server } from "bun";
import { createAdminHandler, createStatusHandler } from "../admin/app.ts";
import type {
  AdminContext,
  DeclarativeState,
  ListenerInfo,
  Readiness,
  TrafficCounts,
} from "../admin/context.ts";
import { probeServices, type ServiceHealth } from "../admin/service-health.ts";
import { EMPTY_HASH } from "../declarative/empty-hash.ts";
import { SharedCounters } from "../plugins/rate-counters.ts";
import { HealthChecker } from "../proxy/balancer/health-checker.ts";
import type { CertificatePair, Store } from "../store/contract.ts";
import { openStore } from "../store/open.ts";
import { readOnlyStore } from "../store/read-only.ts";
import { withAdminAccessLog } from "./admin-access-log.ts";
import { clusterWideProxyCache } from "./cluster-cache-purge.ts";
import type { BootConfig, Listen } from "./config.ts";
import { defaultCertificate } from "./default-certificate.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { listen, listenerUrl, StartupError } from "./listen.ts";
import { type LogOptions, ThreadLogs } from "./node-logs.ts";
import { nodeMetrics } from "./node-metrics.ts";
import { OwnWrites } from "./own-writes.ts";
import { type NodeHealth, type ProxyPlane, type ProxyPlaneOptions, startLocalPlane } from "./proxy-plane.ts";
import { SnapshotRebuilder } from "./rebuilder.ts";
import { VERSION } from "./version.ts";
import { watchConfiguration } from "./watch.ts";
import { startWorkerPlane, type WorkerControl } from "./worker-plane.ts";

export { StartupError } from "./listen.ts";

export type Gateway = {
  /** The first proxy listener's URL. */
  readonly proxyUrl: string;
  /** Every proxy listener, in `--proxy-listen` order (`https://` for ssl ones). */
  readonly proxyListeners: readonly (Listen & { url: string })[];
  readonly adminUrl: string;
  /** The status listener's URL (`--status-listen`), or null. */
  readonly statusUrl: string | null;
  readonly store: Store;
  /** The configuration version every proxy worker of this node serves. */
  servedVersion(): number;
  /** The proxy workers, when there are several (null: the proxy runs in this thread). */
  readonly workers: WorkerControl | null;
  /** Opens every log file again, in every thread (logrotate: SIGUSR1). */
  reopenLogs(): void;
  /**
   * Resolves true once the proxy serves the store's current configuration version, false when that does
   * not happen within `timeoutMs` (the database is unreachable, say).
   */
  synced(timeoutMs?: number): Promise<boolean>;
  /**
   * DB-less mode: reads the declarative file again and swaps the configuration whole; a broken file keeps
   * the current one. Resolves to the line it logged.
   */
  reloadDeclarative(): Promise<string>;
  stop(): Promise<void>;
};

type GatewayOptions = { log?: (line: string) => void };

/** How often expired `cluster` rate-limit counters are deleted from the database. */
const COUNTER_PURGE_MS = 60_000;

/** SO_REUSEPORT, which lets several workers share the port, is Linux's in Bun. */
function workerCount(config: BootConfig, log: (line: string) => void): number {
  if (config.workers > 1 && process.platform !== "linux") {
    log(`portico: --workers ${config.workers} needs SO_REUSEPORT (Linux); running one proxy worker`);
    return 1;
  }
  return config.workers;
}

/** A listener this process bound on its own socket. */
function ownListener(address: Listen, server: Server<unknown>): ListenerInfo {
  return {
    host: address.host,
    port: server.port!,
    ssl: address.ssl,
    http2: address.http2,
    reuseport: false,
  };
}

/** Bun.serve's options for a listener's flags (the admin and status listeners; the proxy's are its own). */
function protocolOptions(address: Listen, certificate: CertificatePair | null) {
  return {
    ...(address.ssl && certificate !== null ? { tls: certificate } : {}),
    ...(address.http2 ? { http2: true } : {}),
    ...(address.http3 ? { http3: true } : {}),
  };
}

export async function startGateway(config: BootConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? ((line: string) => console.log(line));
  const logOptions: LogOptions = {
    accessLog: config.accessLog,
    accessLogFormat: config.accessLogFormat,
    adminAccessLog: config.adminAccessLog,
    errorLog: config.errorLog,
    logLevel: config.logLevel,
    logBuffer: config.logBuffer,
  };
  const workers = workerCount(config, log);
  // Opened first: a log path that cannot be written stops the start, as nginx's does.
  const logs = new ThreadLogs(logOptions, 0, { access: workers === 1, adminAccess: true });
  const ownWrites = new OwnWrites();
  // DB-less (Kong's database = off): an in-memory store that only whole configurations write.
  const dbless = config.declarativeConfig !== null;
  let store: Store;
  try {
    store = await openStore(dbless ? ":memory:" : config.database, { onCommit: ownWrites.onCommit });
  } catch (error) {
    await logs.close();
    throw error;
  }
  const needsTls = [...config.proxyListen, config.adminListen, config.statusListen].some((l) => l?.ssl);
  let certificate: CertificatePair | null = null;
  try {
    if (needsTls) certificate = await defaultCertificate(config, store);
  } catch (error) {
    await store.close();
    await logs.close();
    throw error;
  }
  const declarative: DeclarativeState = {
    dbless,
    store,
    hash: EMPTY_HASH,
    loading: false,
    exiting: false,
  };
  if (dbless) {
    // The declarative code loads only in DB-less mode (and for POST /config, config commands).
    const { DeclarativeFileError, loadDeclarativeFile } = await import("./declarative-file.ts");
    try {
      const loaded = await loadDeclarativeFile(store, config.declarativeConfig!, config.substitutions);
      declarative.hash = loaded.hash;
      log(`portico: ${loaded.summary}`);
    } catch (error) {
      await store.close();
      await logs.close();
      if (error instanceof DeclarativeFileError) throw new StartupError(error.message);
      throw error;
    }
  }
  const planeOptions: ProxyPlaneOptions = {
    listen: config.proxyListen,
    defaultCertificate: certificate,
    bodyLimit: config.proxyBodyLimit,
    version: VERSION,
    trustedIpsSpec: config.trustedIpsSpec,
    realIpHeader: config.realIpHeader,
    reusePort: false,
    // One table of node-local rate-limit counters for every worker (and every snapshot) of the node.
    rateCounters: SharedCounters.allocate(),
    logs: logOptions,
  };
  // One health checker per node, in this thread, whatever the number of proxy workers: it probes once per node
  // and every worker balances by its verdicts (sent to them as they change).
  const checker = new HealthChecker();
  const nodeHealth: NodeHealth = {
    report: (report) => checker.report(report),
    state: () => checker.unhealthyState(),
  };
  let plane: ProxyPlane;
  let workerControl: WorkerControl | null = null;
  // Worker threads are created once the admin listener is up (the plane reserves their ports now), then
  // evaluate their bundles and bind while this thread builds the first snapshot and answers the admin API.
  // A plane in this thread binds now.
  let proxyListening: Promise<void> = Promise.resolve();
  try {
    if (workers > 1) {
      const pool = startWorkerPlane(planeOptions, workers, log, store.rateCounters, nodeHealth);
      plane = pool;
      workerControl = pool;
      proxyListening = pool.listening;
    } else
      plane = startLocalPlane(
        planeOptions,
        log,
        new Float64Array(2),
        store.rateCounters,
        logs,
        nodeHealth.report,
      );
  } catch (error) {
    await store.close();
    await logs.close();
    throw error;
  }
  const stopHealthFeed = checker.subscribe((changes) => plane.applyHealth(changes));
  // Whether a prometheus plugin asks for kong_upstream_target_health (read from each configuration loaded).
  let upstreamHealthMetrics = false;
  const rebuilder = new SnapshotRebuilder(store, plane, log, (input) => {
    upstreamHealthMetrics = (input.plugins ?? []).some(
      (p) =>
        p.name === "prometheus" &&
        p.enabled &&
        (p.config as { upstream_health_metrics?: unknown }).upstream_health_metrics === true,
    );
    checker
      .configure(input.upstreams ?? [], input.targets ?? [])
      .catch((error) => log(`health checks: ${(error as Error).message}`));
  });
  const purgeCounters = setInterval(() => {
    store.rateCounters
      .purgeExpired()
      .catch((error) => log(`rate-limiting counters: purge failed: ${(error as Error).message}`));
  }, COUNTER_PURGE_MS);
  purgeCounters.unref();

  const healthListeners = new Set<(health: ServiceHealth) => void>();
  let adminTotal = 0;
  let statusTotal = 0;
  let adminServer: Server<unknown> | undefined;
  let statusServer: Server<unknown> | undefined;
  let draining = false;
  const nodeId = crypto.randomUUID();
  /** The proxy listeners as bound: a port of 0 is the system's choice, known once the workers listen. */
  const proxyListeners = () =>
    config.proxyListen.map((l, i) => {
      const port = plane.ports[i] ?? l.port;
      return { ...l, port, url: listenerUrl(l.host, port, l.ssl) };
    });
  const proxyListenerInfo = (): ListenerInfo[] =>
    proxyListeners().map((l) => ({
      host: l.host,
      port: l.port,
      ssl: l.ssl,
      http2: l.http2,
      // Proxy workers share their port through SO_REUSEPORT.
      reuseport: workers > 1 || l.ssl,
    }));
  const startedAt = Math.floor(Date.now() / 1000);
  const traffic = (): TrafficCounts => {
    const proxy = plane.traffic();
    return {
      active: {
        proxy: proxy.active,
        // Less the request asking (it is one of them).
        admin: Math.max(0, (adminServer?.pendingRequests ?? 0) + (statusServer?.pendingRequests ?? 0) - 1),
      },
      total: { proxy: proxy.total, admin: adminTotal + statusTotal },
    };
  };

  const context: AdminContext = {
    store: dbless ? readOnlyStore(store) : store,
    declarative,
    node: {
      version: VERSION,
      hostname: hostname(),
      node_id: nodeId,
      started_at: startedAt,
      listeners: { proxy: proxyListeners()[0]!.url, admin: "" },
      listenerInfo: { proxy: proxyListenerInfo(), admin: [], status: [] },
      // Configured ports are known now, and so are those the system picked (0) for a plane in this thread or
      // reserved for the workers; an HTTP/3 listener's once the first worker listens.
      bound: plane.ports.includes(0) ? proxyListening.catch(() => {}) : Promise.resolve(),
      database: dbless
        ? { dialect: "off", location: config.declarativeConfig! }
        : { dialect: store.info.dialect, location: store.info.location },
      // The seed library's URLs write entities, which DB-less mode does not allow.
      service_management: config.serviceManagement && !dbless,
      workers,
    },
    proxyConfigVersion: () => rebuilder.servedVersion(),
    configurationFaults: () => rebuilder.faults(),
    traffic,
    async refreshServices() {
      await rebuilder.rebuildNow();
      // A service whose host names an upstream is probed at its targets' addresses.
      const upstreams = new Map(checker.views().map((view) => [view.upstreamName, view]));
      const results = await probeServices(
        await store.entity("services").all(),
        (service) => upstreams.get(service.host) ?? null,
      );
      for (const result of results) for (const listener of healthListeners) listener(result);
      return results;
    },
    subscribeHealth(listener) {
      healthListeners.add(listener);
      return () => healthListeners.delete(listener);
    },
    async readiness(): Promise<Readiness> {
      if (draining) return { ready: false, reason: "draining" };
      if (!rebuilder.built || rebuilder.servedVersion() < 0)
        return {
          ready: false,
          reason: (await store.ping()) ? "router builds not yet complete" : "failed to connect to database",
        };
      return { ready: true };
    },
    drain() {
      if (!draining) log("portico: draining: /status/ready answers 503 from now on");
      draining = true;
    },
    upstreamHealth: {
      view: (id) => checker.view(id),
      views: () => checker.views(),
      set: (upstream, target, address, healthy) => checker.setManual(upstream, target, address, healthy),
      subscribe: (listener) => checker.subscribe((_changes, detail) => listener(detail)),
    },
    proxyCache: clusterWideProxyCache(store, (command) => plane.proxyCache(command), log),
    metrics: nodeMetrics({
      nodeId,
      version: VERSION,
      plane,
      store,
      traffic,
      rateCounters: new SharedCounters(planeOptions.rateCounters),
      upstreamHealth: () => (upstreamHealthMetrics ? checker.views() : null),
    }),
  };

  // Kong's status listener starts before the first build: a load balancer sees 503 until the node is ready.
  if (config.statusListen !== null) {
    const status = createStatusHandler(context);
    try {
      statusServer = listen("status", config.statusListen, {
        ...protocolOptions(config.statusListen, certificate),
        idleTimeout: 0,
        fetch(request) {
          statusTotal++;
          return status(request);
        },
      });
    } catch (error) {
      clearInterval(purgeCounters);
      await plane.stop();
      await store.close();
      await logs.close();
      throw error;
    }
  }
  const unsubscribe = store.subscribe(() => rebuilder.schedule());
  // The first build runs while the admin listener starts; readiness and the proxy's listening line wait for it.
  const firstBuild = rebuilder.rebuildNow();
  const watcher = watchConfiguration(store, rebuilder, log);

  const admin = createAdminHandler(context);
  /** Undoes a start that fails once the first build is under way. */
  const abandon = async () => {
    watcher.stop();
    unsubscribe();
    clearInterval(purgeCounters);
    admin.close();
    adminServer?.stop(true);
    statusServer?.stop(true);
    await plane.stop();
    await rebuilder.idle();
    await store.close();
    await logs.close();
  };
  const adminServe = ownWrites.wrap(admin.fetch, (version, timeoutMs) =>
    rebuilder.whenServed(version, timeoutMs),
  );
  const adminFetch =
    logs.adminAccess === null ? adminServe : withAdminAccessLog(adminServe, logs.adminAccess);

  try {
    adminServer = listen("admin", config.adminListen, {
      ...protocolOptions(config.adminListen, certificate),
      // The admin API enforces its own 1 MiB limit with a JSON 413 while streaming; Bun's limit would
      // answer first with a bare 413, so it is kept out of the way.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: 0,
      fetch(request, server) {
        adminTotal++;
        return adminFetch(request, server);
      },
      websocket: admin.websocket,
    });
  } catch (error) {
    await abandon();
    throw error;
  }

  const adminUrl = listenerUrl(config.adminListen.host, adminServer.port!, config.adminListen.ssl);
  context.node.listeners.admin = adminUrl;
  context.node.listenerInfo.admin = [ownListener(config.adminListen, adminServer)];
  const statusUrl = statusServer
    ? listenerUrl(config.statusListen!.host, statusServer.port!, config.statusListen!.ssl)
    : null;
  if (statusServer) context.node.listenerInfo.status = [ownListener(config.statusListen!, statusServer)];
  log(`portico ${VERSION}: admin API listening on ${adminUrl}`);
  // Measured on 2 cores (paired runs, load ~4): the first admin answer 40 ms median with the workers created
  // here, 51 ms with them created before the admin listener.
  workerControl?.start();

  try {
    await proxyListening;
  } catch (error) {
    // A worker could not bind the proxy port: the node does not start (the admin listener goes too).
    await abandon();
    throw error;
  }
  const bound = proxyListeners();
  const proxyUrl = bound[0]!.url;
  context.node.listeners.proxy = proxyUrl;
  context.node.listenerInfo.proxy = proxyListenerInfo();
  await firstBuild;
  const heartbeat = startHeartbeat(
    store,
    () => ({
      id: nodeId,
      hostname: context.node.hostname,
      version: VERSION,
      config_version: rebuilder.servedVersion(),
      started_at: startedAt,
      last_seen: Math.floor(Date.now() / 1000),
      workers,
    }),
    (listener) => plane.onServed(listener),
  );
  // Printed once every worker listens and serves the first snapshot: traffic sent now is routed.
  const proxyWorkers = workers > 1 ? ` (${workers} workers)` : "";
  for (const l of bound) {
    const flags = [l.http2 && "HTTP/2", l.http3 && "HTTP/3"].filter(Boolean).join(", ");
    log(`portico ${VERSION}: proxy listening on ${l.url}${flags ? ` (${flags})` : ""}${proxyWorkers}`);
  }
  if (statusUrl !== null) log(`portico ${VERSION}: status API listening on ${statusUrl}`);

  let stopping: Promise<void> | undefined;
  return {
    proxyUrl,
    proxyListeners: bound,
    adminUrl,
    statusUrl,
    store,
    servedVersion: () => rebuilder.servedVersion(),
    workers: workerControl,
    synced: (timeoutMs) => rebuilder.synced(timeoutMs),
    reopenLogs() {
      logs.reopen();
      plane.reopenLogs();
    },
    async reloadDeclarative() {
      if (!dbless) return "portico: not in DB-less mode; nothing to reload";
      if (declarative.loading) return "portico: a configuration is being loaded; reload skipped";
      declarative.loading = true;
      let line: string;
      try {
        const { loadDeclarativeFile } = await import("./declarative-file.ts");
        const loaded = await loadDeclarativeFile(store, config.declarativeConfig!, config.substitutions);
        declarative.hash = loaded.hash;
        line = `portico: ${loaded.summary}`;
      } catch (error) {
        line = `portico: reload failed, still serving the previous configuration: ${(error as Error).message}`;
      } finally {
        declarative.loading = false;
      }
      log(line);
      return line;
    },
    stop() {
      // Stop accepting, let in-flight requests finish, then close the database.
      stopping ??= (async () => {
        // A load balancer still probing sees the node leave before its listeners close.
        draining = true;
        declarative.exiting = true;
        watcher.stop();
        unsubscribe();
        clearInterval(purgeCounters);
        stopHealthFeed();
        checker.stop();
        admin.close();
        await Promise.all([
          plane.stop(),
          adminServer!.stop(false),
          statusServer?.stop(false),
          heartbeat.stop(),
        ]);
        await rebuilder.idle();
        await store.close();
        await logs.close();
      })();
      return stopping;
    },
  };
}
