// What Portico's bundled plugins are: `GET /plugins/enabled` and `GET /schemas/plugins/{name}` (the JSON
// Schema of a plugin's config). Plugin entities themselves get Kong's generated endpoints (entity-endpoints.ts).
import { z } from "zod";
import { bundledPluginNames, PLUGIN_CATALOG } from "../../plugins/catalog.ts";
import { HttpError, json } from "./http.ts";
import type { AdminRouter } from "./router.ts";

export function registerPluginEndpoints(router: AdminRouter): void {
  router.add("/plugins/enabled", {
    GET: () => json({ enabled_plugins: bundledPluginNames() }),
  });
  router.add("/schemas/plugins/:name", {
    GET: (_req, params) => {
      const descriptor = PLUGIN_CATALOG.get(params.name!);
      if (!descriptor) throw new HttpError(404, `No plugin named '${params.name}'`);
      return json({
        name: descriptor.name,
        priority: descriptor.priority,
        version: descriptor.version,
        config: z.toJSONSchema(descriptor.config, { io: "input", unrepresentable: "any" }),
      });
    },
  });
}
