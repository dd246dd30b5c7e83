// Kong's generated endpoint behaviours (kong/api/endpoints.lua), once for every entity: paginated lists,
// creation, one entity by id or endpoint key, and the same nested under a parent.
import type { EntityRepository, Scope } from "../../store/repository.ts";
import type { BodyKinds as FieldKinds } from "./http.ts";
import { json, noContent, notFound, readBody } from "./http.ts";
import { nextLink, parsePageQuery } from "./pagination.ts";
import type { Handler, MethodTable, Params } from "./router.ts";

type Entity = { id: string };
export type ScopeOf = (params: Params) => Promise<Scope | undefined>;

export const noScope: ScopeOf = async () => undefined;

/** `/services/{key}` as written in the request, for `next` links of nested lists. */
export const escaped = (value: string) => encodeURIComponent(value);

/** Resolves a parent named in the URL to a scope; a missing parent is a plain 404. */
export function parentScope<P extends Entity>(
  parents: EntityRepository<P>,
  param: string,
  key: "service" | "route" | "consumer",
): (params: Params) => Promise<Scope> {
  return async (params) => {
    const parent = await parents.get(params[param]!);
    if (!parent) throw notFound();
    return { [key]: parent.id };
  };
}

export function list<E extends Entity>(
  repo: EntityRepository<E>,
  basePath: (params: Params) => string,
  scopeOf: ScopeOf,
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

export function create<E extends Entity>(
  repo: EntityRepository<E>,
  kinds: FieldKinds,
  scopeOf: ScopeOf,
): Handler {
  return async (req, params) => {
    const scope = await scopeOf(params);
    const body = await readBody(req, kinds);
    return json(await repo.insert(body, scope), 201);
  };
}

/** A collection: GET (page) and POST. */
export function collection<E extends Entity>(
  repo: EntityRepository<E>,
  kinds: FieldKinds,
  basePath: (params: Params) => string,
  scopeOf: ScopeOf = noScope,
): MethodTable {
  return { GET: list(repo, basePath, scopeOf, scopeOf === noScope), POST: create(repo, kinds, scopeOf) };
}

/** GET | PATCH | PUT | DELETE of one entity by id or endpoint key. */
export function entity<E extends Entity>(
  repo: EntityRepository<E>,
  kinds: FieldKinds,
  param: string,
): MethodTable {
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
export function nestedEntity<E extends Entity>(
  repo: EntityRepository<E>,
  kinds: FieldKinds,
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
