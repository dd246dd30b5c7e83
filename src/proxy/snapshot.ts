// The immutable configuration the data plane serves from. runtime/ builds one off the request path on every
// config change and swaps it in; requests already running keep the snapshot they started with. Everything a
// request needs (compiled router, upstream origins, Host values, timeouts) is computed here, once.
import { type ChainCompiler, chainCompiler, type PluginChain } from "../plugins/chain.ts";
import { CredentialIndex } from "../plugins/credential-index.ts";
import { PluginInstancePool, type PluginLease, standaloneEnv } from "../plugins/instances.ts";
import type { EntityMap, EntityName } from "../schemas/entities.ts";
import type { Route } from "../schemas/routes.ts";
import type { Service } from "../schemas/services.ts";
import type { Target } from "../schemas/targets.ts";
import type { Upstream } from "../schemas/upstreams.ts";
import type { Balancer } from "./balancer/balancer.ts";
import { BalancerPool } from "./balancer/balancer-pool.ts";
import { snapshotSurvives } from "./headers.ts";
import { compileRouter, type Router } from "./router.ts";
import { type TlsMaterial, tlsMaterial, type UpstreamTls, upstreamTls } from "./upstream-tls.ts";

/** The entities a snapshot is built from, by Kong's DAO name (each list may be absent: empty). */
export type SnapshotEntities = { readonly [N in EntityName]?: readonly EntityMap[N][] };

export type SnapshotInput = SnapshotEntities & { version: number };

/** Something the snapshot left out (or fails closed on) because it could not be built. */
export type ConfigFault = Readonly<{ entity: EntityName; id: string; name: string | null; message: string }>;

/** A route's or service's identity as plugins see it. */
export type EntityRef = Readonly<{ id: string; name: string | null }>;

/** A service as the forwarder uses it. */
export type UpstreamTarget = Readonly<{
  id: string;
  name: string | null;
  /** `{ id, name }`, what plugins see as the request's service (built once, not per request). */
  ref: EntityRef;
  /** The service's host (metrics label a service by its name, else by this) and port. */
  host: string;
  port: number;
  /** `http://host:port`, ready to be followed by the path. */
  origin: string;
  /** `ws://host:port` or `wss://…` for WebSocket upgrades. */
  wsOrigin: string;
  /** The service path, `/` when it has none. */
  basePath: string;
  /** Host header sent upstream when the route does not preserve the client's. */
  hostHeader: string;
  /** Extra tries after a connection failure (idempotent requests only). */
  retries: number;
  connectTimeout: number;
  writeTimeout: number;
  readTimeout: number;
  /** TLS options for https upstreams (Kong does not verify upstream certificates unless told to). */
  tls: UpstreamTls | undefined;
  /** `http` or `https`: with a balancer, origins are built per picked address. */
  scheme: "http" | "https";
  /** Set when the service's host names an upstream: requests go to its targets, the service's port unused. */
  balancer: Balancer | null;
  /** The upstream's host_header (balanced services only; null: the picked target's host). */
  balancedHostHeader: string | null;
}>;

/** A route as the pipeline uses it. */
export type RouteTarget = Readonly<{
  id: string;
  name: string | null;
  /** `{ id, name }`, what plugins see as the request's route (built once, not per request). */
  ref: EntityRef;
  /** null: the route has no service (503). */
  upstream: UpstreamTarget | null;
  stripPath: boolean;
  preserveHost: boolean;
  /** False for an https-only route: plain-HTTP requests get `redirectStatus`. */
  allowsHttp: boolean;
  redirectStatus: number;
  /** Plugins that run for this route, in priority order; null when none applies (the fast path). */
  plugins: PluginChain | null;
  /**
   * When forwarding starts, every request header the forwarded-header rewrite reads is still as the client
   * sent it: no access hook may have edited one (headers.ts snapshotSurvives), so the received snapshot
   * guides the rewrite.
   */
  forwardsAsReceived: boolean;
}>;

export type Snapshot = Readonly<{
  version: number;
  builtAt: number;
  /** Milliseconds the build took (compiling the router dominates). */
  buildMs: number;
  router: Router<RouteTarget>;
  credentials: CredentialIndex;
  /** Entities that could not be built: left out (routes) or failing closed (plugins). */
  faults: readonly ConfigFault[];
  /** Requests running plugins on this snapshot; its plugin instances are released once it is retired and idle. */
  lifecycle: SnapshotLifecycle;
}>;

/**
 * Counts the requests that use a snapshot's plugin instances, and releases them after its retirement. Entering
 * and leaving are a counter each (every request with plugins pays them); only the release itself, which happens
 * once per snapshot, waits for a timer turn, so a body still streaming through a hook in this turn finishes
 * first.
 */
export class SnapshotLifecycle {
  #inflight = 0;
  #retired = false;
  #scheduled = false;
  #released = false;
  readonly #release: () => void;
  readonly #defer: (run: () => void) => void;

  constructor(release: () => void, defer: (run: () => void) => void = (run) => setTimeout(run, 0)) {
    this.#release = release;
    this.#defer = defer;
  }

  enter(): void {
    this.#inflight++;
  }

  /** A request is done with the plugin instances (an arrow: handed to `finally` without a closure per request). */
  readonly leave = (): void => {
    if (--this.#inflight === 0 && this.#retired) this.#schedule();
  };

  /**
   * A newer snapshot serves now: release once the last request still using this one is done. `now` (the node
   * stops, and waits for the cleanups) releases at once when no request runs.
   */
  retire(now = false): void {
    if (this.#retired) return;
    this.#retired = true;
    if (this.#inflight !== 0) return;
    if (now) this.#releaseOnce();
    else this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#defer(() => {
      this.#scheduled = false;
      // A request may have entered since (it then releases when it leaves).
      if (this.#inflight === 0) this.#releaseOnce();
    });
  }

  #releaseOnce(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release();
  }
}

function compileUpstream(service: Service, balancer: Balancer | null, material: TlsMaterial): UpstreamTarget {
  const secure = service.protocol === "https";
  const scheme = secure ? "https" : "http";
  const host = service.host.includes(":") ? `[${service.host}]` : service.host;
  const defaultPort = secure ? 443 : 80;
  return Object.freeze({
    id: service.id,
    name: service.name,
    ref: Object.freeze({ id: service.id, name: service.name }),
    host: service.host,
    port: service.port,
    origin: `${scheme}://${host}:${service.port}`,
    wsOrigin: `${secure ? "wss" : "ws"}://${host}:${service.port}`,
    basePath: service.path ?? "/",
    hostHeader: service.port === defaultPort ? host : `${host}:${service.port}`,
    retries: service.retries,
    connectTimeout: service.connect_timeout,
    writeTimeout: service.write_timeout,
    readTimeout: service.read_timeout,
    tls: secure ? upstreamTls(service, material) : undefined,
    scheme,
    balancer,
    balancedHostHeader: balancer?.upstream.host_header ?? null,
  });
}

function compileRoute(route: Route, upstream: UpstreamTarget | null, chains: ChainCompiler): RouteTarget {
  const plugins = chains(route.id, route.service?.id ?? null);
  return Object.freeze({
    plugins,
    forwardsAsReceived: plugins === null || snapshotSurvives(plugins.upstreamHeaderEdits),
    id: route.id,
    name: route.name,
    ref: Object.freeze({ id: route.id, name: route.name }),
    upstream,
    stripPath: route.strip_path,
    preserveHost: route.preserve_host,
    allowsHttp: route.protocols.includes("http"),
    redirectStatus: route.https_redirect_status_code,
  });
}

/** Plugins compiled for a snapshot nobody else shares (tests, tools): a pool of its own. */
const privatePool = () => new PluginInstancePool(standaloneEnv((line) => console.error(line)));

/** The balancer of each upstream some enabled service points at (Kong: service.host equals upstream.name). */
function balancersFor(input: SnapshotInput, pool: BalancerPool): Map<string, Balancer> {
  const byName = new Map<string, Upstream>();
  for (const upstream of input.upstreams ?? []) byName.set(upstream.name, upstream);
  const targets = new Map<string, Target[]>();
  for (const target of input.targets ?? []) {
    const list = targets.get(target.upstream.id);
    if (list === undefined) targets.set(target.upstream.id, [target]);
    else list.push(target);
  }
  const balancers = new Map<string, Balancer>();
  for (const service of input.services ?? []) {
    const upstream = byName.get(service.host);
    if (!service.enabled || upstream === undefined || balancers.has(upstream.name)) continue;
    balancers.set(upstream.name, pool.balancerFor(upstream, targets.get(upstream.id) ?? []));
  }
  pool.retainOnly(new Set([...balancers.values()].map((b) => b.upstream.id)));
  return balancers;
}

/**
 * Builds a snapshot. Never throws for one bad entity: a route that cannot be compiled is left out and a
 * plugin that cannot be compiled fails closed (its routes answer 500), each reported in `faults`, and
 * everything else is served. `pool` keeps unchanged plugins' instances across snapshots, `balancerPool`
 * unchanged upstreams' balancers.
 */
export function buildSnapshot(
  input: SnapshotInput,
  pool: PluginInstancePool = privatePool(),
  balancerPool: BalancerPool = new BalancerPool(null),
): Snapshot {
  const started = performance.now();
  const faults: ConfigFault[] = [];
  const upstreams = new Map<string, UpstreamTarget>();
  const balancers = balancersFor(input, balancerPool);
  const material = tlsMaterial(input);
  for (const service of input.services ?? [])
    if (service.enabled) {
      try {
        upstreams.set(service.id, compileUpstream(service, balancers.get(service.host) ?? null, material));
      } catch (error) {
        faults.push(fault("services", service, error));
      }
    }

  const plugins = input.plugins ?? [];
  const lease: PluginLease = pool.lease(plugins);
  for (const f of lease.faults)
    faults.push({ entity: "plugins", id: f.id, name: f.name, message: f.message });
  const chains = chainCompiler(plugins, lease.instanceFor, pool.catalog);
  const compiled: { route: Route; value: RouteTarget }[] = [];
  for (const route of input.routes ?? []) {
    let upstream: UpstreamTarget | null = null;
    if (route.service !== null) {
      const found = upstreams.get(route.service.id);
      // Routes of disabled (or vanished) services are left out of the router, as Kong does.
      if (found === undefined) continue;
      upstream = found;
    }
    compiled.push({ route, value: compileRoute(route, upstream, chains) });
  }
  const router = compileRouter(compiled, (route, error) => faults.push(fault("routes", route, error)));

  return Object.freeze({
    version: input.version,
    builtAt: Date.now(),
    buildMs: performance.now() - started,
    router,
    credentials: new CredentialIndex({
      consumers: input.consumers ?? [],
      keyauth_credentials: input.keyauth_credentials ?? [],
      basicauth_credentials: input.basicauth_credentials ?? [],
      jwt_secrets: input.jwt_secrets ?? [],
      acls: input.acls ?? [],
    }),
    faults: Object.freeze(faults),
    lifecycle: new SnapshotLifecycle(lease.release),
  });
}

function fault(entity: EntityName, item: { id: string; name?: string | null }, error: unknown): ConfigFault {
  return { entity, id: item.id, name: item.name ?? null, message: (error as Error).message ?? String(error) };
}
