// startGateway(): the one place that joins the planes. Opens the store, starts both listeners, rebuilds the
// proxy's snapshot off the request path whenever the configuration version moves, and stops gracefully.
import { hostname } from "node:os";
import type { Server } from "bun";
import { createAdminHandler } from "../admin/app.ts";
import type { AdminContext, TrafficCounts } from "../admin/context.ts";
import { probeServices, type ServiceHealth } from "../admin/service-health.ts";
import { buildSnapshot, createProxy, type Proxy as ProxyEngine } from "../proxy/index.ts";
import type { Store } from "../store/repository.ts";
import { openSqliteStore } from "../store/sqlite-store.ts";
import type { BootConfig, Listen } from "./config.ts";
import { VERSION } from "./version.ts";

/** A listener that cannot start (port in use, bad address): one line on stderr, exit code 2. */
export class StartupError extends Error {}

export type Gateway = {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly store: Store;
  readonly proxy: ProxyEngine;
  /** Resolves once the proxy serves the store's current configuration version. */
  synced(): Promise<void>;
  stop(): Promise<void>;
};

type GatewayOptions = { log?: (line: string) => void };

export async function startGateway(config: BootConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? ((line: string) => console.log(line));
  const store = openSqliteStore(config.database);
  const proxy = createProxy({
    bodyLimit: config.proxyBodyLimit,
    version: VERSION,
    trustedIps: config.trustedIps,
    realIpHeader: config.realIpHeader,
  });
  const rebuilder = new SnapshotRebuilder(store, proxy, log);
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
    traffic: (): TrafficCounts => ({
      active: {
        proxy: proxyServer?.pendingRequests ?? 0,
        admin: Math.max(0, (adminServer?.pendingRequests ?? 1) - 1),
      },
      total: { ...totals },
    }),
    async refreshServices() {
      await rebuilder.rebuildNow();
      const results = await probeServices(await store.services.all());
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
    synced: () => rebuilder.synced(),
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
  readonly #log: (line: string) => void;

  constructor(store: Store, proxy: ProxyEngine, log: (line: string) => void) {
    this.#store = store;
    this.#proxy = proxy;
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

  async synced(): Promise<void> {
    while ((await this.#store.configVersion()) !== this.#proxy.current().version) await this.rebuildNow();
  }

  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #loop(delayMs: number): Promise<void> {
    // Let a burst of writes (a batch, a script) land before building.
    if (delayMs > 0) await Bun.sleep(delayMs);
    else await Promise.resolve();
    try {
      while (this.#dirty) {
        this.#dirty = false;
        try {
          const version = await this.#store.configVersion();
          const store = this.#store;
          const [services, routes, plugins, consumers, keyauth, basicauth, jwt, acls] = await Promise.all([
            store.services.all(),
            store.routes.all(),
            store.plugins.all(),
            store.consumers.all(),
            store.entity("keyauth_credentials").all(),
            store.entity("basicauth_credentials").all(),
            store.entity("jwt_secrets").all(),
            store.entity("acls").all(),
          ]);
          this.#proxy.swap(
            buildSnapshot({
              version,
              services,
              routes,
              plugins,
              credentials: {
                consumers,
                keyauth_credentials: keyauth,
                basicauth_credentials: basicauth,
                jwt_secrets: jwt,
                acls,
              },
            }),
          );
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
