// `GET /` (node information, shaped like Kong's kong/api/routes/kong.lua: what Kong Manager and decK read to
// discover a node), and the endpoints of Kong's status API — `/status` (health of this node), `/status/ready`
// (readiness, drain) and `/metrics` (Prometheus) — which the status listener serves too.
import { PLUGIN_CATALOG } from "../../plugins/catalog.ts";
import type { AdminContext, ListenerInfo } from "../context.ts";
import { HttpError, json, readBody } from "./http.ts";
import type { AdminRouter } from "./router.ts";

/** Kong's content type for /metrics. */
const METRICS_TYPE = "text/plain; charset=UTF-8";

/**
 * A listener as Kong renders an entry of `configuration.proxy_listeners` (kong/conf_loader/listeners.lua):
 * its address, the listener line, and one boolean per nginx flag Kong parses — keyed by the flag's pattern
 * when it takes a value (`backlog=%d+`), as Kong does for flags that are absent.
 */
function kongListener(listener: ListenerInfo) {
  const ip = listener.host.includes(":") ? `[${listener.host}]` : listener.host;
  // Kong's listener line names its flags in this order and leaves http2 out.
  const flags = [listener.ssl && "ssl", listener.reuseport && "reuseport"].filter(Boolean);
  return {
    ip,
    port: listener.port,
    listener: [`${ip}:${listener.port}`, ...flags].join(" "),
    ssl: listener.ssl,
    http2: listener.http2,
    proxy_protocol: false,
    deferred: false,
    bind: false,
    reuseport: listener.reuseport,
    "backlog=%d+": false,
    "ipv6only=on": false,
    "ipv6only=off": false,
    "so_keepalive=on": false,
    "so_keepalive=off": false,
    "so_keepalive=%w*:%w*:%d*": false,
  };
}

/** Bundled plugins by name: `{version, priority}` (Kong reads these off each plugin's handler). */
function availableOnServer(): Record<string, { version: string; priority: number }> {
  const available: Record<string, { version: string; priority: number }> = {};
  for (const name of [...PLUGIN_CATALOG.keys()].sort()) {
    const { version, priority } = PLUGIN_CATALOG.get(name)!;
    available[name] = { version, priority };
  }
  return available;
}

export function registerNodeEndpoints(router: AdminRouter, context: AdminContext): void {
  const { node } = context;
  router.add("/", {
    GET: async () => {
      await node.bound;
      const proxyListeners = node.listenerInfo.proxy.map(kongListener);
      const adminListeners = node.listenerInfo.admin.map(kongListener);
      const statusListeners = node.listenerInfo.status.map(kongListener);
      return json({
        tagline: "Welcome to portico",
        version: node.version,
        edition: "community",
        hostname: node.hostname,
        node_id: node.node_id,
        started_at: node.started_at,
        plugins: {
          available_on_server: availableOnServer(),
          // As Kong: every plugin name configured anywhere, enabled or not, in the store's order.
          enabled_in_cluster: [...new Set((await context.store.entity("plugins").all()).map((p) => p.name))],
        },
        configuration: {
          proxy_listen: proxyListeners.map((l) => l.listener),
          admin_listen: adminListeners.map((l) => l.listener),
          // Kong's status_listen is "off" unless configured.
          status_listen: statusListeners.length > 0 ? statusListeners.map((l) => l.listener) : ["off"],
          proxy_listeners: proxyListeners,
          admin_listeners: adminListeners,
          status_listeners: statusListeners,
          database: node.database.dialect,
          database_location: node.database.location,
          service_management: node.service_management,
        },
      });
    },
  });
  registerStatusEndpoints(router, context);
}

/** The status API: `/status`, `/status/ready` and `/metrics` (also served alone by the status listener). */
export function registerStatusEndpoints(router: AdminRouter, context: AdminContext): void {
  router.add("/status/ready", {
    async GET() {
      const readiness = await context.readiness();
      return readiness.ready ? json({ message: "ready" }) : json({ message: readiness.reason }, 503);
    },
    // `kong drain`: a load balancer probing /status/ready takes the node out before it stops.
    async POST(request) {
      const body = await readBody(request, { status: { kind: "string" } });
      if (body.status !== "draining") throw new HttpError(400, "expected status=draining");
      context.drain();
      return new Response(null, { status: 204 });
    },
  });

  router.add("/metrics", {
    GET: async () => new Response(await context.metrics(), { headers: { "content-type": METRICS_TYPE } }),
  });

  router.add("/status", {
    GET: async () => {
      const reachable = await context.store.ping();
      const traffic = context.traffic();
      const memory = process.memoryUsage();
      return json(
        {
          database: { reachable },
          configuration_version: reachable ? await context.store.configVersion().catch(() => null) : null,
          proxy_configuration_version: context.proxyConfigVersion(),
          // Kong's DB-less nodes say which configuration they run (32 zeros: none loaded).
          ...(context.declarative.dbless ? { configuration_hash: context.declarative.hash } : {}),
          // Entities the proxy could not build (left out, or failing closed): the rest is served.
          configuration_faults: context.configurationFaults(),
          server: {
            connections_active: traffic.active.proxy + traffic.active.admin,
            proxy_requests_active: traffic.active.proxy,
            admin_requests_active: traffic.active.admin,
            total_requests: traffic.total.proxy + traffic.total.admin,
            proxy_requests_total: traffic.total.proxy,
            admin_requests_total: traffic.total.admin,
          },
          memory: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed },
        },
        // Kong answers 200 with `reachable: false`: the node is up and proxying; /status/ready says more.
        200,
      );
    },
  });
}
