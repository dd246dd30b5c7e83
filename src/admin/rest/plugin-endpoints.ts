// What Portico's bundled plugins are: `GET /plugins/enabled`. Their schemas are at /schemas/plugins/{name}
// (schema-endpoints.ts); plugin entities themselves get Kong's generated endpoints (entity-endpoints.ts).
import { bundledPluginNames } from "../../plugins/catalog.ts";
import { json } from "./http.ts";
import type { AdminRouter } from "./router.ts";

export function registerPluginEndpoints(router: AdminRouter): void {
  router.add("/plugins/enabled", {
    GET: () => json({ enabled_plugins: bundledPluginNames() }),
  });
}
