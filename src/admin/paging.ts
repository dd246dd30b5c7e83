// Kong's list arguments, checked once for both admin APIs: `size` (1..1000, default 100, code 9) and `tags`
// (each a valid tag, at most five, code 11). REST reads them from the query string, GraphQL from arguments.
import { GatewayError } from "../errors.ts";
import { validateTag } from "../schemas/common.ts";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const MAX_TAG_FILTERS = 5;

export function checkSize(size: number): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
    throw new GatewayError("INVALID_SIZE", `size must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  return size;
}

export function invalidTags(reason: string): GatewayError {
  return new GatewayError("INVALID_OPTIONS", `invalid option (tags: ${reason})`);
}

export function checkTags<T extends readonly string[]>(tags: T): T {
  if (tags.some((tag) => validateTag(tag) !== null)) throw invalidTags("invalid filter syntax");
  if (tags.length > MAX_TAG_FILTERS) throw invalidTags(`cannot query more than ${MAX_TAG_FILTERS} tags`);
  return tags;
}
