// The endpoints Kong writes by hand for upstreams and targets (kong/api/routes/upstreams.lua), on top of the
// generated ones (entity-endpoints.ts):
//   GET  /upstreams/{u}/targets            newest first, numeric offsets (Kong's page_for_upstream)
//   GET  /upstreams/{u}/targets/all        every row in id order, opaque offsets (page_for_upstream_raw)
//   PUT  /upstreams/{u}/targets/{t}        an update of an existing target, like PATCH (404 when missing)
//   PATCH /upstreams/{u}/targets/{t}       Kong's message for an invalid target on update
import { GatewayError, schemaViolation } from "../../errors.ts";
import { invalidTargetNamed, normalizeTarget, type Target } from "../../schemas/targets.ts";
import type { Upstream } from "../../schemas/upstreams.ts";
import type { Store } from "../../store/contract.ts";
import { ENTITIES } from "../../store/entities/index.ts";
import { collection, escaped } from "./crud.ts";
import { bodyKindsOf } from "./entity-endpoints.ts";
import { json, notFound, readBody } from "./http.ts";
import { parseSize } from "./pagination.ts";
import type { AdminRouter, Params } from "./router.ts";

const PAGE = 1000;

/** Every target of an upstream, newest first (then by id, descending), as Kong's DAO lists them. */
export async function targetsNewestFirst(store: Store, upstreamId: string): Promise<Target[]> {
  const targets: Target[] = [];
  let offset: string | undefined;
  do {
    const page = await store.entity("targets").page({ size: PAGE, offset, scope: { upstream: upstreamId } });
    targets.push(...page.data);
    offset = page.offset ?? undefined;
  } while (offset !== undefined);
  return targets.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Kong's numeric offsets for target lists: a count of rows to skip. */
function parseNumericOffset(raw: string | null): number {
  if (raw === null || raw === "") return 0;
  if (!/^\d+$/.test(raw)) throw new GatewayError("INVALID_OFFSET", `'${raw}' is not a valid offset`);
  return Number(raw);
}

export type TargetPage = { data: Target[]; offset: string | null };

/** One page of an upstream's targets, newest first, with Kong's numeric `offset`. */
export async function pageTargets(store: Store, upstreamId: string, url: URL): Promise<TargetPage> {
  const size = parseSize(url.searchParams.get("size"));
  const from = parseNumericOffset(url.searchParams.get("offset"));
  const all = await targetsNewestFirst(store, upstreamId);
  const data = all.slice(from, from + size);
  return { data, offset: from + size < all.length ? String(from + size) : null };
}

/** The upstream named in the URL (id or name); a missing one is a plain 404. */
export async function upstreamOf(store: Store, params: Params): Promise<Upstream> {
  const upstream = await store.entity("upstreams").get(params.parent!);
  if (!upstream) throw notFound();
  return upstream;
}

/** The upstream and one of its targets (by id or by its stored `host:port`); 404 for either missing. */
export async function targetOf(
  store: Store,
  params: Params,
): Promise<{ upstream: Upstream; target: Target }> {
  const upstream = await upstreamOf(store, params);
  const target = await store.entity("targets").get(params.key!, { upstream: upstream.id });
  if (!target) throw notFound();
  return { upstream, target };
}

/**
 * Registered after the generated endpoints, with the same parameter names (`parent`, `key`), so these methods
 * replace the generated ones on the same paths.
 */
export function registerUpstreamEndpoints(router: AdminRouter, store: Store): void {
  const targets = store.entity("targets");
  const kinds = bodyKindsOf(ENTITIES.targets);

  router.add("/upstreams/:parent/targets", {
    GET: async (_req, params, url) => {
      const upstream = await upstreamOf(store, params);
      const page = await pageTargets(store, upstream.id, url);
      const body: { data: Target[]; offset?: string; next: string | null } = { data: page.data, next: null };
      if (page.offset !== null) {
        body.offset = page.offset;
        body.next = `/upstreams/${escaped(params.parent!)}/targets?offset=${page.offset}`;
      }
      return json(body);
    },
  });

  // The generated collection is exactly Kong's raw listing; only its path differs.
  const raw = collection(
    targets as never,
    kinds,
    (p) => `/upstreams/${escaped(p.parent!)}/targets/all`,
    async (params) => ({ upstream: (await upstreamOf(store, params)).id }),
  );
  router.add("/upstreams/:parent/targets/all", { GET: raw.GET! });

  const update = async (request: Request, params: Params) => {
    const { upstream, target } = await targetOf(store, params);
    const body = await readBody(request, kinds);
    if (typeof body.target === "string" && normalizeTarget(body.target) === null)
      throw schemaViolation({ target: invalidTargetNamed(body.target) });
    return json(await targets.update(target.id, body, { upstream: upstream.id }));
  };
  router.add("/upstreams/:parent/targets/:key", { PATCH: update, PUT: update });
}
