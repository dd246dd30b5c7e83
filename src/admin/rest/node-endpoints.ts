// `GET /` (rest/node-info.ts), and the endpoints of Kong's status API — `/status` (health of this node),
// `/status/ready` (readiness, drain) and `/metrics` (Prometheus) — which the status listener serves too.
import type { AdminContext } from "../context.ts";
import { HttpError, json, readBody } from "./http.ts";
import { registerNodeInfo } from "./node-info.ts";
import type { AdminRouter } from "./router.ts";

/** Kong's content type for /metrics. */
const METRICS_TYPE = "text/plain; charset=UTF-8";

export function registerNodeEndpoints(router: AdminRouter, context: AdminContext): void {
  registerNodeInfo(router, context);
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
