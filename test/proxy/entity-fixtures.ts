// Entities as the store would hand them to a snapshot build, for tests that build snapshots directly (no
// admin API): parsed by the real zod schemas, with ids and timestamps filled in.
import type { Plugin } from "../../src/schemas/plugins.ts";
import { type Route, routeSchema } from "../../src/schemas/routes.ts";
import { type Service, serviceSchema } from "../../src/schemas/services.ts";

let n = 0;
/** A fresh UUID-shaped id, unique within the test process. */
export const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;

export function service(url: string, name: string, retries = 1): Service {
  return {
    ...serviceSchema().parse({ url, name, retries }),
    id: id(),
    created_at: 1,
    updated_at: 1,
  } as Service;
}

export function route(paths: string[], svc: Service, name: string): Route {
  return {
    ...routeSchema().parse({ paths, name }),
    id: id(),
    created_at: 1,
    updated_at: 1,
    service: { id: svc.id },
  } as Route;
}

/** A route-scoped plugin with an empty config (the test catalogs' plugins take none). */
export function plugin(name: string, r: Route): Plugin {
  return {
    id: id(),
    created_at: 1,
    updated_at: 1,
    name,
    instance_name: null,
    route: { id: r.id },
    service: null,
    consumer: null,
    config: {},
    protocols: ["http", "https"],
    enabled: true,
    tags: null,
  };
}
