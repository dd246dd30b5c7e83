// proxy-cache's pure rules (kong/plugins/proxy-cache/handler.lua and cache_key.lua, kong/tools/http.lua):
// Cache-Control directives, the resource TTL, which content types match, and Kong's cache key.
import type { QueryValue } from "../kong-request.ts";

export type Directives = ReadonlyMap<string, string | number | true>;

/** No directives (most requests send no Cache-Control): one shared empty map, never changed. */
const NONE: Directives = new Map();

/** Kong's parse_directive_header: `name[=value]` pairs, names lower-case, numbers as numbers, bare as true. */
export function parseDirectives(header: string | null): Directives {
  if (header === null) return NONE;
  const out = new Map<string, string | number | true>();
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === "") continue;
    if (eq < 0) {
      out.set(name, true);
      continue;
    }
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    out.set(name, /^\d+$/.test(raw) ? Number(raw) : raw);
  }
  return out;
}

/** A directive's number of seconds, or undefined. */
export function seconds(cc: Directives, name: string): number | undefined {
  const value = cc.get(name);
  return typeof value === "number" ? value : undefined;
}

/** Kong's calculate_resource_ttl: s-maxage, else max-age, else what Expires leaves; never below 0. */
export function resourceTtl(cc: Directives, expires: string | null, now = Date.now()): number {
  let maxAge = seconds(cc, "s-maxage") ?? seconds(cc, "max-age");
  if (maxAge === undefined && expires !== null) {
    const at = Date.parse(expires);
    if (!Number.isNaN(at)) maxAge = Math.floor((at - now) / 1000);
  }
  return maxAge === undefined ? 0 : Math.max(maxAge, 0);
}

type MediaType = { type: string; subtype: string; params: Map<string, string> };

/** Kong's parse_mime_type: type, subtype (lower-case) and parameters; null when it is not `type/subtype`. */
export function parseMediaType(value: string): MediaType | null {
  const [head, ...rest] = value.split(";");
  const slash = head!.indexOf("/");
  if (slash < 0) return null;
  const type = head!.slice(0, slash).trim().toLowerCase();
  const subtype = head!
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (type === "" || subtype === "") return null;
  const params = new Map<string, string>();
  for (const param of rest) {
    const eq = param.indexOf("=");
    if (eq > 0) params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim());
  }
  return { type, subtype, params };
}

/**
 * Kong's content type check: an exact match with one of the configured types — `*` as type or subtype
 * matches any, and the parameters must be the same ones (so `application/json; charset=utf-8` does not match
 * `application/json`: list both to cache both).
 */
export function contentTypeMatches(contentType: string | null, accepted: readonly MediaType[]): boolean {
  if (contentType === null || contentType === "") return false;
  const actual = parseMediaType(contentType);
  if (actual === null) return false;
  return accepted.some(
    (expected) =>
      (expected.type === "*" || expected.type === actual.type) &&
      (expected.subtype === "*" || expected.subtype === actual.subtype) &&
      expected.params.size === actual.params.size &&
      [...expected.params].every(([key, value]) => actual.params.get(key) === value),
  );
}

/** Kong's generate_key_from: `field=value` pairs joined by `:`, lists sorted and joined by `,`, flags bare. */
function keyFrom(get: (field: string) => QueryValue | undefined, fields: readonly string[]): string {
  const parts: string[] = [];
  for (const field of fields) {
    const value = get(field);
    if (value === undefined) continue;
    if (value === true) parts.push(field);
    else if (Array.isArray(value)) parts.push(`${field}=${[...value].sort().join(",")}`);
    else parts.push(`${field}=${value}`);
  }
  return parts.join(":");
}

export type KeyInput = {
  consumerId: string | null;
  routeId: string | null;
  method: string;
  /** Kong hashes the request line up to the query: `GET /path`, or `GET /path HTTP/1.1` without a query. */
  uri: string;
  query: Record<string, QueryValue>;
  headers: Headers;
  varyQueryParams: readonly string[] | null;
  varyHeaders: readonly string[] | null;
};

/** Kong's build_cache_key: sha256 hex of prefix | method | uri | query part | headers part. */
export function cacheKey(input: KeyInput): string {
  const prefix =
    input.consumerId !== null && input.routeId !== null
      ? `${input.consumerId}:${input.routeId}`
      : (input.routeId ?? "default");
  const query = input.query;
  const params =
    input.varyQueryParams === null || input.varyQueryParams.length === 0
      ? keyFrom((f) => query[f], Object.keys(query).sort())
      : keyFrom((f) => query[f], input.varyQueryParams);
  const headers =
    input.varyHeaders === null || input.varyHeaders.length === 0
      ? ""
      : keyFrom((f) => input.headers.get(f) ?? undefined, input.varyHeaders);
  // The one-shot hash: a third of what a CryptoHasher object costs per key.
  return Bun.SHA256.hash(`${prefix}|${input.method}|${input.uri}|${params}|${headers}`, "hex");
}
