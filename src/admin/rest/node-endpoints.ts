// `GET /` (node information) and `GET /status` (health of this node), shaped like Kong's.
import type { AdminContext } from "../context.ts";
import { json } from "./http.ts";
import type { AdminRouter } from "./router.ts";

export function registerNodeEndpoints(router: AdminRouter, context: AdminContext): void {
  router.add("/", {
    GET: () =>
      json({
        tagline: "Welcome to portico",
        version: context.node.version,
        hostname: context.node.hostname,
        node_id: context.node.node_id,
        started_at: context.node.started_at,
        configuration: {
          proxy_listen: context.node.listeners.proxy,
          admin_listen: context.node.listeners.admin,
          database: context.node.database.dialect,
          database_location: context.node.database.location,
          service_management: context.node.service_management,
        },
        plugins: { available_on_server: {}, enabled_in_cluster: [] },
      }),
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
