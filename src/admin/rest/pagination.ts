// Kong's list arguments: `size` (1..1000, default 100), opaque `offset`, `tags` (`a,b` = AND, `a/b` = OR,
// at most 5), and the `next` link that carries them on.
import { GatewayError } from "../../errors.ts";
import { validateTag } from "../../schemas/common.ts";
import type { PageQuery, TagFilter } from "../../store/contract.ts";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
const MAX_TAGS = 5;

export function parseSize(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_SIZE;
  if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) throw new GatewayError("INVALID_SIZE", "size must be a number");
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
    throw new GatewayError("INVALID_SIZE", `size must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  return size;
}

export function parseTags(raw: string | null): TagFilter | undefined {
  if (raw === null) return undefined;
  const invalid = (reason: string) => new GatewayError("INVALID_OPTIONS", `invalid option (tags: ${reason})`);
  if (raw === "") throw invalid("cannot be null");
  const hasAnd = raw.includes(",");
  const hasOr = raw.includes("/");
  if (hasAnd && hasOr) throw invalid("invalid filter syntax");
  const tags = raw.split(hasOr ? "/" : ",");
  if (tags.some((tag) => validateTag(tag) !== null)) throw invalid("invalid filter syntax");
  if (tags.length > MAX_TAGS) throw invalid(`cannot query more than ${MAX_TAGS} tags`);
  return { mode: hasOr ? "or" : "and", tags };
}

export function parsePageQuery(url: URL): Omit<PageQuery, "scope"> {
  const offset = url.searchParams.get("offset");
  return {
    size: parseSize(url.searchParams.get("size")),
    offset: offset === null || offset === "" ? undefined : offset,
    tags: parseTags(url.searchParams.get("tags")),
  };
}

/** `next` as Kong builds it: the collection path, the new offset, then tags and size when given. */
export function nextLink(
  basePath: string,
  url: URL,
  offset: string | null,
  keepSize: boolean,
): string | null {
  if (offset === null) return null;
  let next = `${basePath}?offset=${encodeURIComponent(offset)}`;
  const tags = url.searchParams.get("tags");
  if (tags !== null) next += `&tags=${encodeURIComponent(tags)}`;
  const size = url.searchParams.get("size");
  if (keepSize && size !== null) next += `&size=${encodeURIComponent(size)}`;
  return next;
}
