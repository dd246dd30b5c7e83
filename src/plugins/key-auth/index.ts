// key-auth: an API key in a header, the query string or the body identifies the consumer.
import { CONSUMER_HEADERS, failOrAnonymous, satisfiedByAnotherPlugin, setConsumer } from "../authenticate.ts";
import { definePlugin, type PluginContext } from "../contract.ts";
import { type KeyAuthConfig, keyAuthConfig } from "./schema.ts";

/** What replaces the body upstream once a key field is taken out of it. */
type Rewritten = { body: string | Uint8Array<ArrayBuffer>; contentType?: string };

/** A parsed request body: a field's value(s), and the body without that field (for hide_credentials). */
type Body = { get(name: string): unknown; without(name: string): Rewritten | Promise<Rewritten> };

const BODY_TYPES = new Set(["application/x-www-form-urlencoded", "application/json", "multipart/form-data"]);

async function readBody(ctx: PluginContext): Promise<Body | null> {
  const contentType = ctx.requestHeader("content-type") ?? "";
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (!BODY_TYPES.has(type)) return null;
  if (type === "multipart/form-data") return readMultipart(ctx, contentType);
  const text = await ctx.readBodyText();
  if (text === "") return null;
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return null;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    const record = parsed as Record<string, unknown>;
    return {
      get: (name) => record[name],
      without: (name) => ({ body: JSON.stringify({ ...record, [name]: undefined }) }),
    };
  }
  const params = new URLSearchParams(text);
  return {
    get: (name) => {
      const all = params.getAll(name);
      return all.length > 1 ? all : all[0];
    },
    without: (name) => ({ body: withoutQueryParam(`?${text}`, name).slice(1) }),
  };
}

/**
 * A multipart form, parsed by the runtime (Response.formData). Only text fields can carry a key; uploaded
 * files are left alone. Without the key the form is re-encoded by the runtime, with a new boundary.
 */
async function readMultipart(ctx: PluginContext, contentType: string): Promise<Body | null> {
  const bytes = await ctx.readBodyBytes();
  if (bytes.byteLength === 0) return null;
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
  } catch {
    return null;
  }
  return {
    get: (name) => {
      const all = form.getAll(name).filter((v): v is string => typeof v === "string");
      return all.length > 1 ? all : all[0];
    },
    async without(name) {
      const kept = new FormData();
      for (const [field, value] of form) if (field !== name) kept.append(field, value);
      const encoded = new Response(kept);
      // Read before the body: Bun forgets a Response's generated Content-Type once the body is consumed.
      const type = encoded.headers.get("content-type") ?? contentType;
      return { body: await encoded.bytes(), contentType: type };
    },
  };
}

/** Removes one parameter from a raw query string, keeping every other byte as the client sent it. */
export function withoutQueryParam(query: string, name: string): string {
  const kept = query
    .slice(1)
    .split("&")
    .filter((part) => {
      const rawName = part.split("=", 1)[0]!;
      try {
        return decodeURIComponent(rawName.replaceAll("+", " ")) !== name;
      } catch {
        return true;
      }
    });
  return kept.length === 0 ? "" : `?${kept.join("&")}`;
}

export const keyAuth = definePlugin<KeyAuthConfig>({
  name: "key-auth",
  priority: 1250,
  version: "1.0.0",
  config: keyAuthConfig,
  // Authentication identifies the consumer, so it cannot be scoped to one (Kong's no_consumer).
  scoping: { consumer: false },
  // The consumer's headers; with hide_credentials also the key's header and a rewritten body's framing.
  upstreamHeaderEdits: (config) =>
    config.hide_credentials
      ? [
          ...CONSUMER_HEADERS,
          ...config.key_names.map((name) => name.toLowerCase()),
          "content-length",
          "content-type",
          "transfer-encoding",
        ]
      : CONSUMER_HEADERS,
  access(ctx, config) {
    if (!config.run_on_preflight && ctx.method === "OPTIONS") return undefined;
    if (satisfiedByAnotherPlugin(ctx, config.anonymous)) return undefined;
    // Only key_in_body needs to wait (for the body); every other request is checked synchronously, which
    // keeps a protected route's cost close to an unprotected one's.
    if (config.key_in_body) return readBody(ctx).then((body) => authenticate(ctx, config, body));
    return authenticate(ctx, config, null);
  },
});

/** A refusal (or the anonymous consumer): built only on failure, so a valid key allocates as little as possible. */
function fail(ctx: PluginContext, config: KeyAuthConfig, message: string): Response | undefined {
  return failOrAnonymous(ctx, config.anonymous, {
    status: 401,
    message,
    headers: { "www-authenticate": config.realm ? `Key realm="${config.realm}"` : "Key" },
  });
}

/** The key-auth check proper, given the request body when key_in_body is on (null otherwise). */
function authenticate(
  ctx: PluginContext,
  config: KeyAuthConfig,
  body: Body | null,
): Response | undefined | Promise<undefined> {
  // Kong's order: for each key name in turn, the header, then the query string, then the body; the first
  // name present decides. A name given twice (`?apikey=a&apikey=b`) is refused rather than guessed at.
  let query: URLSearchParams | undefined;
  let key: string | null = null;
  let keyName = "";
  for (const name of config.key_names) {
    let value: unknown = null;
    if (config.key_in_header) value = ctx.requestHeader(name);
    if (value === null && config.key_in_query && ctx.query.length > 1) {
      query ??= new URLSearchParams(ctx.query);
      const all = query.getAll(name).filter((v) => v !== "");
      if (all.length > 0) value = all.length > 1 ? all : all[0]!;
    }
    if ((value === null || value === undefined) && config.key_in_body) value = body?.get(name) ?? null;
    if (Array.isArray(value)) return fail(ctx, config, "Duplicate API key found");
    if (typeof value === "string") {
      key = value;
      keyName = name;
      break;
    }
  }
  if (key === null || key === "") return fail(ctx, config, "No API key found in request");

  const entry = ctx.credentials.key(key);
  const consumer = entry?.consumer;
  if (!entry || !consumer) return fail(ctx, config, "Invalid authentication credentials");

  if (config.hide_credentials) {
    // As Kong: the name is cleared from the header, the query string and the body alike, wherever the key
    // was found, so a copy of it cannot reach the upstream another way.
    ctx.upstreamHeaders.delete(keyName);
    if (ctx.query.length > 1) {
      const query = withoutQueryParam(ctx.query, keyName);
      if (query !== ctx.query) ctx.setUpstreamQuery(query);
    }
  }
  setConsumer(ctx, consumer, entry.credential, false);
  if (!config.hide_credentials || !body || body.get(keyName) === undefined) return undefined;
  const rewritten = body.without(keyName);
  const apply = ({ body, contentType }: Rewritten) => {
    ctx.setUpstreamBody(body, contentType);
    return undefined;
  };
  return rewritten instanceof Promise ? rewritten.then(apply) : apply(rewritten);
}
