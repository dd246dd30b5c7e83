// Kong's views of a request (kong.request.get_query / get_headers / get_body / get_uri_captures), shared by
// the plugins that show or rewrite them. Pure: each takes what it reads.

export type QueryValue = string | string[] | true;

/** Kong's get_query(): repeated names become arrays, a name without `=` is `true`; `query` without its `?`. */
export function parseQuery(query: string): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = Object.create(null);
  if (query === "") return out;
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeQueryComponent(eq < 0 ? part : part.slice(0, eq));
    const value: string | true = eq < 0 ? true : decodeQueryComponent(part.slice(eq + 1));
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(String(value));
    else out[name] = [String(existing), String(value)];
  }
  return out;
}

/** `+` is a space in a query; a malformed escape is kept as written. */
export function decodeQueryComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

/** Kong's get_uri_captures(): numbered groups (without the whole match) and named ones. */
export function uriCaptures(match: RegExpExecArray | null): {
  unnamed: string[];
  named: Record<string, string>;
} {
  if (match === null) return { unnamed: [], named: {} };
  const named: Record<string, string> = {};
  for (const [name, value] of Object.entries(match.groups ?? {}))
    if (value !== undefined) named[name] = value;
  return { unnamed: match.slice(1).map((v) => v ?? ""), named };
}

/** The media type of a Content-Type value, lower-case, without parameters. */
export function mediaType(contentType: string | null): string {
  if (contentType === null) return "";
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** Kong's get_body() for the three media types it parses; undefined for any other (or an unparsable body). */
export async function parseBody(
  bytes: Uint8Array<ArrayBuffer>,
  contentType: string | null,
): Promise<Record<string, unknown> | undefined> {
  const type = mediaType(contentType);
  const text = () => Buffer.from(bytes).toString("utf8");
  try {
    if (type === "application/json") {
      const value = JSON.parse(text());
      return typeof value === "object" && value !== null ? value : undefined;
    }
    if (type === "application/x-www-form-urlencoded") return parseQuery(text());
    if (type === "multipart/form-data") {
      const form = await new Response(bytes, { headers: { "content-type": contentType! } }).formData();
      const out: Record<string, unknown> = {};
      for (const [name, value] of form) if (typeof value === "string") out[name] = value;
      return out;
    }
  } catch {}
  return undefined;
}

/** ngx.escape_uri: everything but letters, digits and `-._~` is percent-encoded. */
export function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Kong's encode_args: `name=value` pairs, an array as the name repeated, `true` as the bare name. `sorted`
 * orders names as Kong's set_query does (kong.tools.http.encode_args); otherwise they keep their order.
 */
export function encodeArgs(args: Record<string, QueryValue>, sorted: boolean): string {
  const names = Object.keys(args);
  if (sorted) names.sort();
  const parts: string[] = [];
  for (const name of names) {
    const value = args[name]!;
    const key = escapeUri(name);
    if (value === true) parts.push(key);
    else for (const one of Array.isArray(value) ? value : [value]) parts.push(`${key}=${escapeUri(one)}`);
  }
  return parts.join("&");
}
