// Kong's `/tags` and `/tags/{tag}`: every tag of every tagged entity as `{entity_name, entity_id, tag}`,
// paged like the other collections (size 1–1000, an opaque offset, `next`).
import { GatewayError } from "../../errors.ts";
import { validateTag } from "../../schemas/common.ts";
import type { EntityRepository, Store } from "../../store/contract.ts";
import { ENTITIES, ENTITY_NAMES } from "../../store/entities/index.ts";
import { invalidTags } from "../paging.ts";
import { escaped } from "./crud.ts";
import { json } from "./http.ts";
import { parseSize } from "./pagination.ts";
import type { AdminRouter, Handler } from "./router.ts";

type TagRow = { entity_name: string; entity_id: string; tag: string };

/** The entities with a `tags` field; read on the first request (each entity's shape is built on first use). */
let tagged: readonly (typeof ENTITY_NAMES)[number][] | undefined;
const taggedEntities = () => (tagged ??= ENTITY_NAMES.filter((name) => "tags" in ENTITIES[name].shape));

/** Rows in a stable order: by tag, then entity, then id; the offset names the last row of a page. */
const sortKey = (row: TagRow) => `${row.tag}\u0000${row.entity_name}\u0000${row.entity_id}`;

function decodeTagOffset(offset: string): string {
  const invalid = () =>
    new GatewayError("INVALID_OFFSET", `'${offset}' is not a valid offset: bad base64 encoding`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(offset)) throw invalid();
  const key = Buffer.from(offset, "base64").toString("utf8");
  if (key.split("\u0000").length !== 3) throw invalid();
  return key;
}

async function tagRows(store: Store, only: string | null): Promise<TagRow[]> {
  const rows: TagRow[] = [];
  for (const name of taggedEntities()) {
    const repo = store.entity(name) as unknown as EntityRepository<{ id: string; tags?: string[] | null }>;
    for (const entity of await repo.all())
      for (const tag of entity.tags ?? [])
        if (only === null || tag === only) rows.push({ entity_name: name, entity_id: entity.id, tag });
  }
  return rows.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

function listTags(store: Store, tagOf: (params: Record<string, string>) => string | null): Handler {
  return async (_request, params, url) => {
    const size = parseSize(url.searchParams.get("size"));
    const rawOffset = url.searchParams.get("offset");
    const after = rawOffset === null || rawOffset === "" ? null : decodeTagOffset(rawOffset);
    const only = tagOf(params);
    if (only !== null && validateTag(only) !== null) throw invalidTags("invalid filter syntax");
    const rows = await tagRows(store, only);
    const start = after === null ? 0 : rows.findIndex((row) => sortKey(row) > after);
    const data = start < 0 ? [] : rows.slice(start, start + size);
    const more = start >= 0 && start + size < rows.length;
    const body: { data: TagRow[]; offset?: string; next: string | null } = { data, next: null };
    if (more) {
      const offset = Buffer.from(sortKey(data[data.length - 1]!), "utf8").toString("base64");
      body.offset = offset;
      const base = only === null ? "/tags" : `/tags/${escaped(only)}`;
      const sizeParam = url.searchParams.get("size");
      body.next = `${base}?offset=${encodeURIComponent(offset)}${sizeParam === null ? "" : `&size=${encodeURIComponent(sizeParam)}`}`;
    }
    return json(body);
  };
}

export function registerTagEndpoints(router: AdminRouter, store: Store): void {
  router.add("/tags", { GET: listTags(store, () => null) });
  router.add("/tags/:tag", { GET: listTags(store, (params) => params.tag!) });
}
