// Kong's generated endpoints (kong/api/endpoints.lua) for services and routes: collections, entities by
// id or name, routes nested under their service, and a route's service.
import { routeFields } from "../../schemas/routes.ts";
import { serviceFields } from "../../schemas/services.ts";
import type { EntityRepository, Scope, Store } from "../../store/repository.ts";
import { kindsOf } from "./form.ts";
import { json, methodNotAllowed, noContent, notFound, readBody } from "./http.ts";
import { nextLink, parsePageQuery } from "./pagination.ts";
import type { AdminRouter, Handler, Params } from "./router.ts";

type Entity = { id: string };

const serviceKinds = kindsOf(serviceFields);
const routeKinds = kindsOf(routeFields);

/** `/services/{key}` as written in the request, for `next` links of nested lists. */
const escaped = (value: string) => encodeURIComponent(value);

export function registerEntityEndpoints(router: AdminRouter, store: Store): void {
  const { services, routes } = store;

  /** Resolves `{service}` of a nested URL to a scope; a missing parent is a plain 404. */
  const serviceScope = async (params: Params): Promise<Scope> => {
    const parent = await services.get(params.service!);
    if (!parent) throw notFound();
    return { service: parent.id };
  };

  router.add("/services", {
    GET: list(
      services,
      () => "/services",
      async () => undefined,
      true,
    ),
    POST: create(services, serviceKinds, async () => undefined),
  });
  router.add("/services/:service", entity(services, serviceKinds, "service"));

  router.add("/routes", {
    GET: list(
      routes,
      () => "/routes",
      async () => undefined,
      true,
    ),
    POST: create(routes, routeKinds, async () => undefined),
  });
  router.add("/routes/:route", entity(routes, routeKinds, "route"));

  router.add("/services/:service/routes", {
    GET: list(routes, (p) => `/services/${escaped(p.service!)}/routes`, serviceScope, false),
    POST: create(routes, routeKinds, serviceScope),
  });
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

function list<E extends Entity>(
  repo: EntityRepository<E>,
  basePath: (params: Params) => string,
  scopeOf: (params: Params) => Promise<Scope | undefined>,
  keepSize: boolean,
): Handler {
  return async (_req, params, url) => {
    const query = parsePageQuery(url);
    const scope = await scopeOf(params);
    const page = await repo.page({ ...query, scope });
    const body: { data: E[]; offset?: string; next: string | null } = { data: page.data, next: null };
    if (page.offset !== null) body.offset = page.offset;
    body.next = nextLink(basePath(params), url, page.offset, keepSize);
    return json(body);
  };
}

function create<E extends Entity>(
  repo: EntityRepository<E>,
  kinds: ReturnType<typeof kindsOf>,
  scopeOf: (params: Params) => Promise<Scope | undefined>,
): Handler {
  return async (req, params) => {
    const scope = await scopeOf(params);
    const body = await readBody(req, kinds);
    return json(await repo.insert(body, scope), 201);
  };
}

/** GET | PATCH | PUT | DELETE of one entity by id or name. */
function entity<E extends Entity>(
  repo: EntityRepository<E>,
  kinds: ReturnType<typeof kindsOf>,
  param: string,
) {
  return {
    GET: async (_req: Request, params: Params) => {
      const found = await repo.get(params[param]!);
      if (!found) throw notFound();
      return json(found);
    },
    PATCH: async (req: Request, params: Params) =>
      json(await repo.update(params[param]!, await readBody(req, kinds))),
    PUT: async (req: Request, params: Params) =>
      json(await repo.upsert(params[param]!, await readBody(req, kinds))),
    DELETE: async (_req: Request, params: Params) => {
      await repo.delete(params[param]!);
      return noContent();
    },
  };
}

/** The same under a parent: an entity that is not the parent's child is "Not found". */
function nestedEntity<E extends Entity>(
  repo: EntityRepository<E>,
  kinds: ReturnType<typeof kindsOf>,
  param: string,
  scopeOf: (params: Params) => Promise<Scope>,
) {
  const child = async (params: Params) => {
    const scope = await scopeOf(params);
    const found = await repo.get(params[param]!, scope);
    return { scope, found };
  };
  return {
    GET: async (_req: Request, params: Params) => {
      const { found } = await child(params);
      if (!found) throw notFound();
      return json(found);
    },
    PATCH: async (req: Request, params: Params) => {
      const { scope, found } = await child(params);
      if (!found) throw notFound();
      return json(await repo.update(found.id, await readBody(req, kinds), scope));
    },
    PUT: async (req: Request, params: Params) => {
      const scope = await scopeOf(params);
      // An entity that exists under another parent is "Not found" here, in Kong's plain shape (the
      // store's own guard would answer a code-6 error object instead).
      const existing = await repo.get(params[param]!);
      if (existing && (existing as { service?: { id: string } | null }).service?.id !== scope.service)
        throw notFound();
      return json(await repo.upsert(params[param]!, await readBody(req, kinds), scope));
    },
    DELETE: async (_req: Request, params: Params) => {
      const { scope, found } = await child(params);
      if (!found) throw notFound();
      await repo.delete(found.id, scope);
      return noContent();
    },
  };
}
