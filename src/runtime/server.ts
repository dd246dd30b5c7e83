// startGateway(): the one place that joins the planes. Opens the store, starts the proxy plane (in this
// thread, or N worker threads on one port) and the admin listener, keeps the proxy's snapshot in step with
// the configuration wherever it is written, records the node in the shared database, and stops gracefully.
//
// Start-up order: the admin listener answers `GET /` as early as it can. Before it listens only the light part
// runs: the log files, the SQLite file opened and its migrations checked with bun:sqlite alone, the proxy
// ports reserved. The store's layers (drizzle, the tables, zod), the proxy plane, the health checker,
// metrics and the snapshot rebuilder (node-parts.ts) are imported after it listens, a macrotask apart so
// that a request that came meanwhile is let in; `GET /` reads the plugin names with plain SQL until the
// store exists, and every other admin request waits for the node's full context. Readiness is unchanged
// (503 until every worker serves the first snapshot). PostgreSQL, DB-less mode and TLS need the store
// before listening (the default certificate lives in it; the declarative file is loaded into it).
import { hostname } from "node:os";
import type { Server } from "bun";
import { createAdminHandler, createStatusHandler } from "../admin/app.ts";
import type {
  AdminContext,
  DeclarativeState,
  ListenerInfo,
  NodeContext,
  NodeInfo,
  Readiness,
  TrafficCounts,
} from "../admin/context.ts";
import type { ServiceHealth } from "../admin/service-health.ts";
import { EMPTY_HASH } from "../declarative/empty-hash.ts";
import type { CertificatePair, Store } from "../store/contract.ts";
import { isPostgresUrl, openStore, sqliteStore } from "../store/open.ts";
import { openSqliteFile, pluginNamesInUse, type SqliteFile } from "../store/sqlite/open-file.ts";
import { withAdminAccessLog } from "./admin-access-log.ts";
import type { BootConfig, Listen } from "./config.ts";
import { listen, listenerUrl, StartupError } from "./listen.ts";
import { type LogOptions, ThreadLogs } from "./node-logs.ts";
import { OwnWrites } from "./own-writes.ts";
import type { ProxyPlane, ProxyPlaneOptions } from "./proxy-plane.ts";
import type { SnapshotRebuilder } from "./rebuilder.ts";
import { VERSION } from "./version.ts";
import { type ReservedPorts, reservePorts, startWorkerPlane, type WorkerControl } from "./worker-plane.ts";

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

/** Lets a request that arrived meanwhile in before the next step of the start (a macrotask apart). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

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
  const needsTls = [...config.proxyListen, config.adminListen, config.statusListen].some((l) => l?.ssl);
  // The SQLite file is opened now and its store built once the admin listener answers (see the top).
  const storeLater = !dbless && !needsTls && !isPostgresUrl(config.database);
  let file: SqliteFile | null = null;
  let store: Store | undefined;
  try {
    if (storeLater) file = await openSqliteFile(config.database);
    else store = await openStore(dbless ? ":memory:" : config.database, { onCommit: ownWrites.onCommit });
  } catch (error) {
    await logs.close();
    throw error;
  }
  const closeStore = async () => {
    if (store) await store.close();
    else file?.sqlite.close();
  };
  let certificate: CertificatePair | null = null;
  try {
    if (needsTls) {
      const { defaultCertificate } = await import("./default-certificate.ts");
      certificate = await defaultCertificate(config, store!);
    }
  } catch (error) {
    await closeStore();
    await logs.close();
    throw error;
  }
  let declarativeHash = EMPTY_HASH;
  if (dbless) {
    // The declarative code loads only in DB-less mode (and for POST /config, config commands).
    const { DeclarativeFileError, loadDeclarativeFile } = await import("./declarative-file.ts");
    try {
      const loaded = await loadDeclarativeFile(store!, config.declarativeConfig!, config.substitutions);
      declarativeHash = loaded.hash;
      log(`portico: ${loaded.summary}`);
    } catch (error) {
      await closeStore();
      await logs.close();
      if (error instanceof DeclarativeFileError) throw new StartupError(error.message);
      throw error;
    }
  }
  // Proxy ports of 0 are reserved now for the workers, which join them once created (worker-plane.ts), so
  // `GET /` names them at once. A plane in this thread binds once the admin listener is up.
  let reserved: ReservedPorts | null = null;
  try {
    if (workers > 1) reserved = reservePorts(config.proxyListen);
  } catch (error) {
    await closeStore();
    await logs.close();
    throw error;
  }
  const knownPorts = reserved?.ports ?? config.proxyListen.map((l) => l.port);

  let plane: ProxyPlane | undefined;
  let workerControl: WorkerControl | null = null;
  let proxyListening: Promise<void> = Promise.resolve();
  let planeCreated!: () => void;
  let planeFailed!: (error: unknown) => void;
  const planeReady = new Promise<void>((resolve, reject) => {
    planeCreated = resolve;
    planeFailed = reject;
  });
  let context!: AdminContext;
  let contextReady!: (context: AdminContext) => void;
  let contextFailed!: (error: unknown) => void;
  const full = new Promise<AdminContext>((resolve, reject) => {
    contextReady = resolve;
    contextFailed = reject;
  });
  // A start that fails after listening stops the listeners too; requests waiting for the context go with them.
  full.catch(() => {});
  let rebuilder: SnapshotRebuilder | undefined;

  let adminTotal = 0;
  let statusTotal = 0;
  let adminServer: Server<unknown> | undefined;
  let statusServer: Server<unknown> | undefined;
  let draining = false;
  const nodeId = crypto.randomUUID();
  /** The proxy listeners as bound: a port of 0 is the system's choice, known once the workers listen. */
  const proxyListeners = () =>
    config.proxyListen.map((l, i) => {
      const port = (plane?.ports ?? knownPorts)[i] ?? l.port;
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
  const node: NodeInfo = {
    version: VERSION,
    hostname: hostname(),
    node_id: nodeId,
    started_at: startedAt,
    listeners: { proxy: proxyListeners()[0]!.url, admin: "" },
    listenerInfo: { proxy: proxyListenerInfo(), admin: [], status: [] },
    // Configured ports are known now, and so are those reserved for the workers; a port the plane in this
    // thread binds once it starts, an HTTP/3 listener's once the first worker listens.
    bound: knownPorts.includes(0)
      ? planeReady.then(() => (plane!.ports.includes(0) ? proxyListening : undefined)).catch(() => {})
      : Promise.resolve(),
    database: dbless
      ? { dialect: "off", location: config.declarativeConfig! }
      : store
        ? { dialect: store.info.dialect, location: store.info.location }
        : { dialect: "sqlite", location: file!.location },
    // The seed library's URLs write entities, which DB-less mode does not allow.
    service_management: config.serviceManagement && !dbless,
    workers,
  };
  const nodeContext: NodeContext = {
    node,
    // Plain SQL until the store exists; nothing writes before then (writes wait for the full context).
    pluginsInUse: async () =>
      store
        ? [...new Set((await store.entity("plugins").all()).map((p) => p.name))]
        : pluginNamesInUse(file!),
  };

  // Kong's status listener starts before the first build: a load balancer sees 503 until the node is ready.
  const status = config.statusListen !== null ? createStatusHandler(full) : null;
  const admin = createAdminHandler(nodeContext, full);
  const adminServe = ownWrites.wrap(admin.fetch, (version, timeoutMs) =>
    rebuilder!.whenServed(version, timeoutMs),
  );
  const adminFetch =
    logs.adminAccess === null ? adminServe : withAdminAccessLog(adminServe, logs.adminAccess);
  try {
    if (status !== null)
      statusServer = listen("status", config.statusListen!, {
        ...protocolOptions(config.statusListen!, certificate),
        idleTimeout: 0,
        fetch(request) {
          statusTotal++;
          return status(request);
        },
      });
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
    statusServer?.stop(true);
    reserved?.release();
    await closeStore();
    await logs.close();
    throw error;
  }

  const adminUrl = listenerUrl(config.adminListen.host, adminServer.port!, config.adminListen.ssl);
  node.listeners.admin = adminUrl;
  node.listenerInfo.admin = [ownListener(config.adminListen, adminServer)];
  const statusUrl = statusServer
    ? listenerUrl(config.statusListen!.host, statusServer.port!, config.statusListen!.ssl)
    : null;
  if (statusServer) node.listenerInfo.status = [ownListener(config.statusListen!, statusServer)];
  log(`portico ${VERSION}: admin API listening on ${adminUrl}`);

  // The rest of the node, a step per macrotask (see the top).
  let stopHealthFeed = () => {};
  let purgeCounters: ReturnType<typeof setInterval> | undefined;
  let unsubscribe = () => {};
  let watcher: { stop(): void } | undefined;
  let firstBuild: Promise<void> = Promise.resolve();
  let checkerStop = () => {};
  /** Ends the node's background work (watcher, subscriptions, timers, health checks, admin handler): both
   * a failed start and a stop begin with it. */
  const stopBackgroundWork = () => {
    watcher?.stop();
    unsubscribe();
    clearInterval(purgeCounters);
    stopHealthFeed();
    checkerStop();
    admin.close();
  };
  /** Undoes a start that fails once the admin listener is up. */
  const abandon = async () => {
    stopBackgroundWork();
    adminServer?.stop(true);
    statusServer?.stop(true);
    reserved?.release();
    await plane?.stop();
    await rebuilder?.idle();
    await closeStore();
    await logs.close();
  };
  try {
    if (file !== null) {
      await nextTurn();
      store = await sqliteStore(file, { onCommit: ownWrites.onCommit }, nextTurn);
    }
    const db = store!;
    await nextTurn();
    const parts = await import("./node-parts.ts");
    await nextTurn();
    const planeOptions: ProxyPlaneOptions = {
      listen: config.proxyListen,
      defaultCertificate: certificate,
      bodyLimit: config.proxyBodyLimit,
      version: VERSION,
      trustedIpsSpec: config.trustedIpsSpec,
      realIpHeader: config.realIpHeader,
      reusePort: false,
      // One table of node-local rate-limit counters for every worker (and every snapshot) of the node.
      rateCounters: parts.SharedCounters.allocate(),
      logs: logOptions,
    };
    // One health checker per node, in this thread, whatever the number of proxy workers: it probes once per
    // node and every worker balances by its verdicts (sent to them as they change).
    const checker = new parts.HealthChecker();
    checkerStop = () => checker.stop();
    const nodeHealth = {
      report: (report: Parameters<typeof checker.report>[0]) => checker.report(report),
      state: () => checker.unhealthyState(),
    };
    // Worker threads are created last (below): they evaluate their bundles and bind while this thread builds
    // the first snapshot and answers the admin API. A plane in this thread binds now.
    if (workers > 1) {
      const pool = startWorkerPlane(planeOptions, workers, log, db.rateCounters, nodeHealth, reserved!);
      plane = pool;
      workerControl = pool;
      proxyListening = pool.listening;
    } else
      plane = parts.startLocalPlane(
        planeOptions,
        log,
        new Float64Array(2),
        db.rateCounters,
        logs,
        nodeHealth.report,
      );
    planeCreated();
    const theplane = plane;
    stopHealthFeed = checker.subscribe((changes) => theplane.applyHealth(changes));
    // Whether a prometheus plugin asks for kong_upstream_target_health (read from each configuration loaded).
    let upstreamHealthMetrics = false;
    const builder = new parts.SnapshotRebuilder(db, theplane, log, (input) => {
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
    rebuilder = builder;
    purgeCounters = setInterval(() => {
      db.rateCounters
        .purgeExpired()
        .catch((error) => log(`rate-limiting counters: purge failed: ${(error as Error).message}`));
    }, COUNTER_PURGE_MS);
    purgeCounters.unref();

    const healthListeners = new Set<(health: ServiceHealth) => void>();
    const traffic = (): TrafficCounts => {
      const proxy = theplane.traffic();
      return {
        active: {
          proxy: proxy.active,
          // Less the request asking (it is one of them).
          admin: Math.max(0, (adminServer?.pendingRequests ?? 0) + (statusServer?.pendingRequests ?? 0) - 1),
        },
        total: { proxy: proxy.total, admin: adminTotal + statusTotal },
      };
    };
    const declarative: DeclarativeState = {
      dbless,
      store: db,
      hash: declarativeHash,
      loading: false,
      exiting: false,
    };
    context = {
      ...nodeContext,
      store: dbless ? parts.readOnlyStore(db) : db,
      declarative,
      proxyConfigVersion: () => builder.servedVersion(),
      configurationFaults: () => builder.faults(),
      traffic,
      async refreshServices() {
        await builder.rebuildNow();
        // A service whose host names an upstream is probed at its targets' addresses.
        const upstreams = new Map(checker.views().map((view) => [view.upstreamName, view]));
        const results = await parts.probeServices(
          await db.entity("services").all(),
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
        if (!builder.built || builder.servedVersion() < 0)
          return {
            ready: false,
            reason: (await db.ping()) ? "router builds not yet complete" : "failed to connect to database",
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
      proxyCache: parts.clusterWideProxyCache(db, (command) => theplane.proxyCache(command), log),
      metrics: parts.nodeMetrics({
        nodeId,
        version: VERSION,
        plane: theplane,
        store: db,
        traffic,
        rateCounters: new parts.SharedCounters(planeOptions.rateCounters),
        upstreamHealth: () => (upstreamHealthMetrics ? checker.views() : null),
      }),
    };
    unsubscribe = db.subscribe(() => builder.schedule());
    // The first build runs while the workers start; readiness and the proxy's listening line wait for it.
    firstBuild = builder.rebuildNow();
    watcher = parts.watchConfiguration(db, builder, log);
    contextReady(context);
    // Measured on 2 cores (paired runs, load ~4): the first admin answer 40 ms median with the workers
    // created after the admin listener, 51 ms with them created before it.
    workerControl?.start();
  } catch (error) {
    planeFailed(error);
    contextFailed(error);
    await abandon();
    throw error;
  }

  try {
    await proxyListening;
  } catch (error) {
    // A worker could not bind the proxy port: the node does not start (the admin listener goes too).
    await abandon();
    throw error;
  }
  const bound = proxyListeners();
  const proxyUrl = bound[0]!.url;
  node.listeners.proxy = proxyUrl;
  node.listenerInfo.proxy = proxyListenerInfo();
  await firstBuild;
  const db = store!;
  const started = plane!;
  const builder = rebuilder!;
  const heartbeat = (await import("./node-parts.ts")).startHeartbeat(
    db,
    () => ({
      id: nodeId,
      hostname: node.hostname,
      version: VERSION,
      config_version: builder.servedVersion(),
      started_at: startedAt,
      last_seen: Math.floor(Date.now() / 1000),
      workers,
    }),
    (listener) => started.onServed(listener),
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
    store: db,
    servedVersion: () => builder.servedVersion(),
    workers: workerControl,
    synced: (timeoutMs) => builder.synced(timeoutMs),
    reopenLogs() {
      logs.reopen();
      started.reopenLogs();
    },
    async reloadDeclarative() {
      if (!dbless) return "portico: not in DB-less mode; nothing to reload";
      if (context.declarative.loading) return "portico: a configuration is being loaded; reload skipped";
      context.declarative.loading = true;
      let line: string;
      try {
        const { loadDeclarativeFile } = await import("./declarative-file.ts");
        const loaded = await loadDeclarativeFile(db, config.declarativeConfig!, config.substitutions);
        context.declarative.hash = loaded.hash;
        line = `portico: ${loaded.summary}`;
      } catch (error) {
        line = `portico: reload failed, still serving the previous configuration: ${(error as Error).message}`;
      } finally {
        context.declarative.loading = false;
      }
      log(line);
      return line;
    },
    stop() {
      // Stop accepting, let in-flight requests finish, then close the database.
      stopping ??= (async () => {
        // A load balancer still probing sees the node leave before its listeners close.
        draining = true;
        context.declarative.exiting = true;
        stopBackgroundWork();
        await Promise.all([
          started.stop(),
          adminServer!.stop(false),
          statusServer?.stop(false),
          heartbeat.stop(),
        ]);
        await builder.idle();
        await db.close();
        await logs.close();
      })();
      return stopping;
    },
  };
}
