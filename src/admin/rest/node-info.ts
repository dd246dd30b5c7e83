// `GET /`: node information, shaped like Kong's kong/api/routes/kong.lua (what Kong Manager and decK read to
// discover a node). Registered on its own at start (rest/index.ts): it reads nothing but the node's facts
// and the names of the plugins in use, so it answers while the rest of the admin API still loads.
import { AVAILABLE_PLUGINS } from "../../plugins/available.ts";
import type { ListenerInfo, NodeContext } from "../context.ts";
import { json } from "./respond.ts";
import type { AdminRouter } from "./router.ts";

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

export function registerNodeInfo(router: AdminRouter, context: NodeContext): void {
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
          // Bundled plugins by name: `{version, priority}` (Kong reads these off each plugin's handler).
          available_on_server: AVAILABLE_PLUGINS,
          // As Kong: every plugin name configured anywhere, enabled or not, in the store's order.
          enabled_in_cluster: await context.pluginsInUse(),
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
}
