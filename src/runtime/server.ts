// startGateway(): the one place that joins the planes. Opens the store, starts both listeners, rebuilds the
// proxy's snapshot off the request path whenever the configuration version moves, and stops gracefully.
import { hostname } from "node:os";
import type { Server } from "bun";
import { createAdminHandler } from "../admin/app.ts";
import type { AdminContext, TrafficCounts } from "../admin/context.ts";
import { probeServices, type ServiceHealth } from "../admin/service-health.ts";
import { PluginInstancePool } from "../plugins/instances.ts";
import {
  buildSnapshot,
  type ConfigFault,
  createProxy,
  type Proxy as ProxyEngine,
  type SnapshotEntities,
} from "../proxy/index.ts";
import type { Store } from "../store/contract.ts";
import { ENTITIES, ENTITY_NAMES } from "../store/entities/index.ts";
import { openStore } from "../store/open.ts";
import type { BootConfig, Listen } from "./config.ts";
import { VERSION } from "./version.ts";

/** A listener that cannot start (port in use, bad address): one line on stderr, exit code 2. */
export class StartupError extends Error {}

export type Gateway = {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly store: Store;
  readonly proxy: ProxyEngine;
  /**
   * Resolves true once the proxy serves the store's current configuration version, false when that does
   * not happen within `timeoutMs` (the database is unreachable, say).
   */
  synced(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
};

type GatewayOptions = { log?: (line: string) => void };

export async function startGateway(config: BootConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? ((line: string) => console.log(line));
  const store = await openStore(config.database);
  const proxy = createProxy({
    bodyLimit: config.proxyBodyLimit,
    version: VERSION,
    trustedIps: config.trustedIps,
    realIpHeader: config.realIpHeader,
  });
  const pool = new PluginInstancePool({ log });
  const rebuilder = new SnapshotRebuilder(store, proxy, pool, log);
  await rebuilder.rebuildNow();
  const unsubscribe = store.subscribe(() => rebuilder.schedule());

  const healthListeners = new Set<(health: ServiceHealth) => void>();
  const totals = { proxy: 0, admin: 0 };
  let proxyServer: Server<unknown> | undefined;
  let adminServer: Server<unknown> | undefined;

  const context: AdminContext = {
    store,
    node: {
      version: VERSION,
      hostname: hostname(),
      node_id: crypto.randomUUID(),
      started_at: Math.floor(Date.now() / 1000),
      listeners: { proxy: "", admin: "" },
      database: { dialect: store.info.dialect, location: store.info.location },
      service_management: config.serviceManagement,
    },
    proxyConfigVersion: () => proxy.current().version,
    configurationFaults: () => proxy.current().faults,
    traffic: (): TrafficCounts => ({
      active: {
        proxy: proxyServer?.pendingRequests ?? 0,
        admin: Math.max(0, (adminServer?.pendingRequests ?? 1) - 1),
      },
      total: { ...totals },
    }),
    async refreshServices() {
      await rebuilder.rebuildNow();
      const results = await probeServices(await store.entity("services").all());
      for (const result of results) for (const listener of healthListeners) listener(result);
      return results;
    },
    subscribeHealth(listener) {
      healthListeners.add(listener);
      return () => healthListeners.delete(listener);
    },
  };
  const admin = createAdminHandler(context);

  try {
    proxyServer = listen("proxy", config.proxyListen, {
      // Upstream calls, long-poll and SSE may take longer than Bun's 10 s default idle timeout.
      idleTimeout: 0,
      // The proxy enforces the body limit itself, to answer 413 in JSON (Bun's own 413 has no body).
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch(request, server) {
        totals.proxy++;
        return proxy.fetch(request, server);
      },
      websocket: proxy.websocket,
    });
    adminServer = listen("admin", config.adminListen, {
      // The admin API enforces its own 1 MiB limit with a JSON 413 while streaming; Bun's limit would
      // answer first with a bare 413, so it is kept out of the way.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: 0,
      fetch(request, server) {
        totals.admin++;
        return admin.fetch(request, server);
      },
      websocket: admin.websocket,
    });
  } catch (error) {
    proxyServer?.stop(true);
    unsubscribe();
    await store.close();
    throw error;
  }

  const proxyUrl = listenerUrl(config.proxyListen.host, proxyServer.port!);
  const adminUrl = listenerUrl(config.adminListen.host, adminServer.port!);
  context.node.listeners.proxy = proxyUrl;
  context.node.listeners.admin = adminUrl;
  log(`portico ${VERSION}: proxy listening on ${proxyUrl}`);
  log(`portico ${VERSION}: admin API listening on ${adminUrl}`);

  let stopping: Promise<void> | undefined;
  return {
    proxyUrl,
    adminUrl,
    store,
    proxy,
    synced: (timeoutMs) => rebuilder.synced(timeoutMs),
    stop() {
      // Stop accepting, let in-flight requests finish, then close the database.
      stopping ??= (async () => {
        unsubscribe();
        admin.close();
        await Promise.all([proxyServer!.stop(false), adminServer!.stop(false)]);
        await rebuilder.idle();
        await store.close();
      })();
      return stopping;
    },
  };
}

function listenerUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function listen(
  name: string,
  address: Listen,
  options: Omit<Bun.Serve.Options<unknown>, "hostname" | "port">,
): Server<unknown> {
  try {
    return Bun.serve({
      ...options,
      hostname: address.host,
      port: address.port,
    } as Bun.Serve.Options<unknown>);
  } catch (error) {
    const err = error as Error & { code?: string };
    const where = `${address.host}:${address.port}`;
    if (err.code === "EADDRINUSE")
      throw new StartupError(`${name} listener: address ${where} is already in use`);
    if (err.code === "EACCES") throw new StartupError(`${name} listener: permission denied for ${where}`);
    if (err.code === "EADDRNOTAVAIL")
      throw new StartupError(`${name} listener: address ${where} is not available`);
    throw new StartupError(`${name} listener: cannot listen on ${where}: ${err.message}`);
  }
}

/**
 * How long a write waits for others before the snapshot is rebuilt. Bulk loads (10,000 routes posted one by
 * one) would otherwise rebuild once per write; 10 ms keeps a change visible well within 50 ms.
 */
const REBUILD_DELAY_MS = 10;

/**
 * Rebuilds the proxy snapshot when the configuration moves. Writes arriving during a build coalesce into
 * one more build; a failed build keeps the old snapshot serving and is logged.
 */
class SnapshotRebuilder {
  #running: Promise<void> | undefined;
  #dirty = false;
  readonly #store: Store;
  readonly #proxy: ProxyEngine;
  readonly #pool: PluginInstancePool;
  readonly #log: (line: string) => void;
  /** Faults already logged, so each one is logged once, not at every rebuild. */
  #reported = new Set<string>();

  constructor(store: Store, proxy: ProxyEngine, pool: PluginInstancePool, log: (line: string) => void) {
    this.#store = store;
    this.#proxy = proxy;
    this.#pool = pool;
    this.#log = log;
  }

  /** After a write: build shortly, so a script's burst of writes costs one build, not one per write. */
  schedule(): void {
    this.#dirty = true;
    this.#running ??= this.#loop(REBUILD_DELAY_MS);
  }

  /** Builds now (or waits for the build under way plus one more), e.g. for the seed's refresh. */
  rebuildNow(): Promise<void> {
    this.#dirty = true;
    this.#running ??= this.#loop(0);
    return this.#running ?? Promise.resolve();
  }

  async synced(timeoutMs = 5000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      try {
        if ((await this.#store.configVersion()) === this.#proxy.current().version) return true;
      } catch {
        // The database does not answer: try again until the deadline.
      }
      await Promise.race([this.rebuildNow(), Bun.sleep(Math.max(0, deadline - performance.now()))]);
    }
    return false;
  }

  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Every entity the snapshot is built from, as one consistent-enough read (the version is read first). */
  async #load(): Promise<SnapshotEntities & { version: number }> {
    const version = await this.#store.configVersion();
    const names = ENTITY_NAMES.filter((name) => ENTITIES[name].snapshot);
    const lists = await Promise.all(names.map((name) => this.#store.entity(name).all()));
    return Object.assign({ version }, ...names.map((name, i) => ({ [name]: lists[i] })));
  }

  #report(faults: readonly ConfigFault[]): void {
    const current = new Set<string>();
    for (const fault of faults) {
      const key = `${fault.entity}/${fault.id}: ${fault.message}`;
      current.add(key);
      if (!this.#reported.has(key))
        this.#log(
          `configuration fault: ${fault.entity} ${fault.name ?? fault.id} left out of the proxy: ${fault.message}`,
        );
    }
    this.#reported = current;
  }

  async #loop(delayMs: number): Promise<void> {
    // Let a burst of writes (a batch, a script) land before building.
    if (delayMs > 0) await Bun.sleep(delayMs);
    else await Promise.resolve();
    try {
      while (this.#dirty) {
        this.#dirty = false;
        try {
          const snapshot = buildSnapshot(await this.#load(), this.#pool);
          this.#proxy.swap(snapshot);
          this.#report(snapshot.faults);
        } catch (error) {
          this.#log(
            `configuration rebuild failed, still serving the previous one: ${(error as Error).message}`,
          );
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}
