// Kong's generated endpoint behaviours (kong/api/endpoints.lua), once for every entity: paginated lists,
// creation, one entity by id or endpoint key, the same nested under a parent, and a child's parent.
import type { BatchStep, EntityRepository, Scope, Store } from "../../store/contract.ts";
import type { EntityName } from "../../store/entity-def.ts";
import type { BodyKinds } from "./http.ts";
import { json, methodNotAllowed, noContent, notFound, readBody } from "./http.ts";
import { nextLink, parsePageQuery } from "./pagination.ts";
import type { Handler, MethodTable, Params } from "./router.ts";

type Entity = { id: string };
export type ScopeOf = (params: Params) => Promise<Scope | undefined>;

export const noScope: ScopeOf = async () => undefined;

/** `/services/{key}` as written in the request, for `next` links of nested lists. */
export const escaped = (value: string) => encodeURIComponent(value);

/** Resolves a parent named in the URL to a scope; a missing parent is a plain 404. */
export function parentScope(
  parents: EntityRepository<Entity>,
  param: string,
  key: string,
): (params: Params) => Promise<Scope> {
  return async (params) => {
    const parent = await parents.get(params[param]!);
    if (!parent) throw notFound();
    return { [key]: parent.id };
  };
}

function list(
  repo: EntityRepository<Entity>,
  basePath: (params: Params) => string,
  scopeOf: ScopeOf,
  keepSize: boolean,
): Handler {
  return async (_req, params, url) => {
    const query = parsePageQuery(url);
    const scope = await scopeOf(params);
    const page = await repo.page({ ...query, scope });
    const body: { data: Entity[]; offset?: string; next: string | null } = { data: page.data, next: null };
    if (page.offset !== null) body.offset = page.offset;
    body.next = nextLink(basePath(params), url, page.offset, keepSize);
    return json(body);
  };
}

/** A collection: GET (page) and POST. Nested lists do not carry `size` on in `next` (Kong). */
export function collection(
  repo: EntityRepository<Entity>,
  kinds: BodyKinds,
  basePath: (params: Params) => string,
  scopeOf: ScopeOf = noScope,
): MethodTable {
  return {
    GET: list(repo, basePath, scopeOf, scopeOf === noScope),
    POST: async (req, params) => {
      const scope = await scopeOf(params);
      return json(await repo.insert(await readBody(req, kinds), scope), 201);
    },
  };
}

/** GET | PATCH | PUT | DELETE of one entity by id or endpoint key. */
export function entity(repo: EntityRepository<Entity>, kinds: BodyKinds, param: string): MethodTable {
  return {
    GET: async (_req, params) => {
      const found = await repo.get(params[param]!);
      if (!found) throw notFound();
      return json(found);
    },
    PATCH: async (req, params) => json(await repo.update(params[param]!, await readBody(req, kinds))),
    PUT: async (req, params) => json(await repo.upsert(params[param]!, await readBody(req, kinds))),
    DELETE: async (_req, params) => {
      await repo.delete(params[param]!);
      return noContent();
    },
  };
}

/** The same under a parent: an entity that is not the parent's child is "Not found". */
export function nestedEntity(
  repo: EntityRepository<Entity>,
  kinds: BodyKinds,
  param: string,
  scopeOf: (params: Params) => Promise<Scope>,
): MethodTable {
  const child = async (params: Params) => {
    const scope = await scopeOf(params);
    const found = await repo.get(params[param]!, scope);
    return { scope, found };
  };
  return {
    GET: async (_req, params) => {
      const { found } = await child(params);
      if (!found) throw notFound();
      return json(found);
    },
    PATCH: async (req, params) => {
      const { scope, found } = await child(params);
      if (!found) throw notFound();
      return json(await repo.update(found.id, await readBody(req, kinds), scope));
    },
    PUT: async (req, params) => {
      const scope = await scopeOf(params);
      // An entity that exists under another parent is "Not found" here, in Kong's plain shape (the
      // store's own guard would answer a code-6 error object instead).
      const existing = await repo.get(params[param]!);
      if (existing && !(await repo.get(existing.id, scope))) throw notFound();
      return json(await repo.upsert(params[param]!, await readBody(req, kinds), scope));
    },
    DELETE: async (_req, params) => {
      const { scope, found } = await child(params);
      if (!found) throw notFound();
      await repo.delete(found.id, scope);
      return noContent();
    },
  };
}

/**
 * GET | PATCH | PUT the entity a child points at (Kong: `/routes/{r}/service`, `/plugins/{p}/consumer`).
 * DELETE is refused (405) — delete the child or the parent itself; 404 first when the child is missing or
 * points at nothing. PUT on a child that points at nothing creates the parent under a new id and attaches
 * it, both in one transaction, as Kong does.
 */
export function parentOf(
  store: Store,
  child: { entity: EntityName; param: string; field: string },
  parent: { entity: EntityName; kinds: BodyKinds },
): MethodTable {
  const children = store.entity(child.entity) as unknown as EntityRepository<
    Entity & Record<string, unknown>
  >;
  const parents = store.entity(parent.entity) as unknown as EntityRepository<Entity>;
  const parentId = async (params: Params) => {
    const found = await children.get(params[child.param]!);
    const ref = found?.[child.field] as { id: string } | null | undefined;
    if (!ref) throw notFound();
    return ref.id;
  };
  return {
    GET: async (_req, params) => {
      const found = await parents.get(await parentId(params));
      if (!found) throw notFound();
      return json(found);
    },
    PATCH: async (req, params) => {
      const id = await parentId(params);
      return json(await parents.update(id, await readBody(req, parent.kinds)));
    },
    PUT: async (req, params) => {
      const found = await children.get(params[child.param]!);
      if (!found) throw notFound();
      const body = await readBody(req, parent.kinds);
      const ref = found[child.field] as { id: string } | null;
      if (ref) return json(await parents.upsert(ref.id, body));
      const id = crypto.randomUUID();
      const steps: BatchStep[] = [
        { entity: parent.entity, action: "upsert", key: id, input: body },
        { entity: child.entity, action: "update", key: found.id, input: { [child.field]: { id } } },
      ];
      const [created] = await store.batch(steps);
      return json(created);
    },
    DELETE: async (_req, params) => {
      await parentId(params);
      throw methodNotAllowed();
    },
  };
}
