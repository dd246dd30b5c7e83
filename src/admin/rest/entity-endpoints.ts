// Kong's generated endpoints (kong/api/endpoints.lua) for services and routes: collections, entities by
// id or name, routes nested under their service, and a route's service.
import { routeFields } from "../../schemas/routes.ts";
import { serviceFields } from "../../schemas/services.ts";
import type { Store } from "../../store/repository.ts";
import { collection, entity, escaped, nestedEntity, parentScope } from "./crud.ts";
import { kindsOf } from "./form.ts";
import { json, methodNotAllowed, notFound, readBody } from "./http.ts";
import type { AdminRouter, Params } from "./router.ts";

const serviceKinds = kindsOf(serviceFields);
const routeKinds = kindsOf(routeFields);

export function registerEntityEndpoints(router: AdminRouter, store: Store): void {
  const { services, routes } = store;

  const serviceScope = parentScope(services, "service", "service");

  router.add(
    "/services",
    collection(services, serviceKinds, () => "/services"),
  );
  router.add("/services/:service", entity(services, serviceKinds, "service"));

  router.add(
    "/routes",
    collection(routes, routeKinds, () => "/routes"),
  );
  router.add("/routes/:route", entity(routes, routeKinds, "route"));

  router.add(
    "/services/:service/routes",
    collection(routes, routeKinds, (p) => `/services/${escaped(p.service!)}/routes`, serviceScope),
  );
  router.add("/services/:service/routes/:route", nestedEntity(routes, routeKinds, "route", serviceScope));

  // A route's service: read, update or replace the service the route points at. It cannot be deleted
  // through the route (Kong answers 405, but 404 first when there is no route or it has no service).
  const routeService = async (params: Params) => {
    const route = await routes.get(params.route!);
    if (!route?.service) throw notFound();
    return route.service.id;
  };
  router.add("/routes/:route/service", {
    GET: async (_req, params) => {
      const service = await services.get(await routeService(params));
      if (!service) throw notFound();
      return json(service);
    },
    PATCH: async (req, params) => {
      const id = await routeService(params);
      return json(await services.update(id, await readBody(req, serviceKinds)));
    },
    PUT: async (req, params) => {
      const route = await routes.get(params.route!);
      if (!route) throw notFound();
      const body = await readBody(req, serviceKinds);
      if (route.service) return json(await services.upsert(route.service.id, body));
      // Kong's PUT on a route without a service creates one under a new id and attaches it to the route;
      // both writes commit together so a refused service leaves the route untouched.
      const id = crypto.randomUUID();
      const [service] = await store.batch([
        { entity: "services", action: "upsert", key: id, input: body },
        { entity: "routes", action: "update", key: route.id, input: { service: { id } } },
      ]);
      return json(service);
    },
    DELETE: async (_req, params) => {
      await routeService(params);
      throw methodNotAllowed();
    },
  });
}
