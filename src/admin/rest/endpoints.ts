// Every REST endpoint, registered on one router: loaded by index.ts on the first request that the node's
// own endpoints do not answer (see there).
import type { AdminContext } from "../context.ts";
import { registerClusterEndpoints } from "./cluster-endpoints.ts";
import { registerConfigEndpoints } from "./config-endpoints.ts";
import { registerEntityEndpoints } from "./entity-endpoints.ts";
import { registerLegacyEndpoints } from "./legacy.ts";
import { registerNodeEndpoints } from "./node-endpoints.ts";
import { registerPluginEndpoints } from "./plugin-endpoints.ts";
import { registerProxyCacheEndpoints } from "./proxy-cache-endpoints.ts";
import { AdminRouter } from "./router.ts";
import { registerSchemaEndpoints } from "./schema-endpoints.ts";
import { registerTagEndpoints } from "./tag-endpoints.ts";
import { registerUpstreamEndpoints } from "./upstream-endpoints.ts";
import { registerUpstreamHealthEndpoints } from "./upstream-health-endpoints.ts";

export type FullRouter = AdminRouter;

export function createFullRouter(context: AdminContext): FullRouter {
  const router = new AdminRouter();
  registerNodeEndpoints(router, context);
  registerEntityEndpoints(router, context.store);
  registerClusterEndpoints(router, context.store);
  registerPluginEndpoints(router);
  registerProxyCacheEndpoints(router, context);
  registerUpstreamEndpoints(router, context.store);
  registerUpstreamHealthEndpoints(router, context);
  registerSchemaEndpoints(router);
  registerTagEndpoints(router, context.store);
  registerConfigEndpoints(router, context);
  if (context.node.service_management) registerLegacyEndpoints(router, context);
  return router;
}
