// The immutable configuration the data plane serves from. runtime/ builds one off the request path on every
// config change and swaps it in; requests already running keep the snapshot they started with. Everything a
// request needs (compiled router, upstream origins, Host values, timeouts) is computed here, once.
import { type ChainCompiler, chainCompiler, type PluginChain } from "../plugins/chain.ts";
import { CredentialIndex, type CredentialInput } from "../plugins/credential-index.ts";
import type { Plugin } from "../schemas/plugins.ts";
import type { Route } from "../schemas/routes.ts";
import type { Service } from "../schemas/services.ts";
import { compileRouter, type Router } from "./router.ts";

export type SnapshotInput = {
  version: number;
  services: readonly Service[];
  routes: readonly Route[];
  plugins?: readonly Plugin[];
  /** Consumers and their credentials, indexed for the authentication plugins. */
  credentials?: CredentialInput;
};

/** A service as the forwarder uses it. */
export type UpstreamTarget = Readonly<{
  id: string;
  name: string | null;
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
  tls: { rejectUnauthorized: boolean } | undefined;
}>;

/** A route as the pipeline uses it. */
export type RouteTarget = Readonly<{
  id: string;
  name: string | null;
  /** null: the route has no service (503). */
  upstream: UpstreamTarget | null;
  stripPath: boolean;
  preserveHost: boolean;
  /** False for an https-only route: plain-HTTP requests get `redirectStatus`. */
  allowsHttp: boolean;
  redirectStatus: number;
  /** Plugins that run for this route, in priority order; null when none applies (the fast path). */
  plugins: PluginChain | null;
}>;

export type Snapshot = Readonly<{
  version: number;
  builtAt: number;
  /** Milliseconds the build took (compiling the router dominates). */
  buildMs: number;
  router: Router<RouteTarget>;
  credentials: CredentialIndex;
}>;

function compileUpstream(service: Service): UpstreamTarget {
  const secure = service.protocol === "https";
  const scheme = secure ? "https" : "http";
  const host = service.host.includes(":") ? `[${service.host}]` : service.host;
  const defaultPort = secure ? 443 : 80;
  return Object.freeze({
    id: service.id,
    name: service.name,
    origin: `${scheme}://${host}:${service.port}`,
    wsOrigin: `${secure ? "wss" : "ws"}://${host}:${service.port}`,
    basePath: service.path ?? "/",
    hostHeader: service.port === defaultPort ? host : `${host}:${service.port}`,
    retries: service.retries,
    connectTimeout: service.connect_timeout,
    writeTimeout: service.write_timeout,
    readTimeout: service.read_timeout,
    tls: secure ? { rejectUnauthorized: service.tls_verify === true } : undefined,
  });
}

function compileRoute(route: Route, upstream: UpstreamTarget | null, chains: ChainCompiler): RouteTarget {
  return Object.freeze({
    plugins: chains(route.id, route.service?.id ?? null),
    id: route.id,
    name: route.name,
    upstream,
    stripPath: route.strip_path,
    preserveHost: route.preserve_host,
    allowsHttp: route.protocols.includes("http"),
    redirectStatus: route.https_redirect_status_code,
  });
}

/** Throws when a route cannot be compiled: runtime/ then keeps serving the previous snapshot. */
export function buildSnapshot(input: SnapshotInput): Snapshot {
  const started = performance.now();
  const upstreams = new Map<string, UpstreamTarget>();
  for (const service of input.services)
    if (service.enabled) upstreams.set(service.id, compileUpstream(service));

  const chains = chainCompiler(input.plugins ?? []);
  const compiled: { route: Route; value: RouteTarget }[] = [];
  for (const route of input.routes) {
    let upstream: UpstreamTarget | null = null;
    if (route.service !== null) {
      const found = upstreams.get(route.service.id);
      // Routes of disabled (or vanished) services are left out of the router, as Kong does.
      if (found === undefined) continue;
      upstream = found;
    }
    compiled.push({ route, value: compileRoute(route, upstream, chains) });
  }
  const router = compileRouter(compiled);

  return Object.freeze({
    version: input.version,
    builtAt: Date.now(),
    buildMs: performance.now() - started,
    router,
    credentials: input.credentials ? new CredentialIndex(input.credentials) : CredentialIndex.EMPTY,
  });
}
