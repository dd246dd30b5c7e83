// Kong's list arguments: `size` (1..1000, default 100), opaque `offset`, `tags` (`a,b` = AND, `a/b` = OR,
// at most 5), and the `next` link that carries them on.
import { GatewayError } from "../../errors.ts";
import type { PageQuery, TagFilter } from "../../store/contract.ts";
import { checkSize, checkTags, DEFAULT_PAGE_SIZE, invalidTags } from "../paging.ts";

export function parseSize(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_SIZE;
  if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) throw new GatewayError("INVALID_SIZE", "size must be a number");
  return checkSize(Number(raw));
}

export function parseTags(raw: string | null): TagFilter | undefined {
  if (raw === null) return undefined;
  if (raw === "") throw invalidTags("cannot be null");
  const hasAnd = raw.includes(",");
  const hasOr = raw.includes("/");
  if (hasAnd && hasOr) throw invalidTags("invalid filter syntax");
  return { mode: hasOr ? "or" : "and", tags: checkTags(raw.split(hasOr ? "/" : ",")) };
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
