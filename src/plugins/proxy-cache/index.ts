// proxy-cache: answers repeated requests from memory (kong/plugins/proxy-cache/handler.lua). In access, a
// cacheable request is looked up by Kong's cache key: a fresh entry is the answer (X-Cache-Status: Hit, Age);
// otherwise the request goes upstream marked Miss (or Refresh when the entry was stale), and its response is
// stored — while it streams to the client, never delaying it — when its status, content type and (with
// cache_control) its Cache-Control allow. Anything else is marked Bypass. Each proxy worker keeps its own
// bounded store (store.ts).

import { answerWithHeaders } from "../../proxy/plugin-context.ts";
import type { PluginContext, PluginDescriptor } from "../contract.ts";
import { parseQuery } from "../kong-request.ts";
import {
  cacheKey,
  contentTypeMatches,
  type Directives,
  parseDirectives,
  parseMediaType,
  resourceTtl,
  seconds,
} from "./rules.ts";
import { type ProxyCacheConfig, proxyCacheConfig } from "./schema.ts";
import { type CachedResponse, cachedResponse, dictionary, MAX_ENTRY_BYTES } from "./store.ts";

/**
 * Headers never stored (hop-by-hop, the length, this request's own gateway headers). Age and the X-Cache
 * headers are stored as the miss had them (Kong's admin API shows them) and replaced on every hit.
 */
const NOT_STORED = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailers",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "server",
  "date",
  "x-portico-request-id",
  "x-portico-upstream-latency",
  "x-portico-proxy-latency",
  "x-portico-response-latency",
]);

const storable = (name: string) => !NOT_STORED.has(name) && !name.includes("ratelimit-remaining");

/** What the cache holds for a request (Kong's access phase decision). */
type Lookup =
  | { kind: "bypass" }
  | { kind: "miss" | "refresh" | "only-if-cached"; key: string }
  | { kind: "hit"; key: string; entry: CachedResponse; age: number };

const BYPASS: Lookup = { kind: "bypass" };

/** What access decided, for the response hook: store the response under this key. */
type Pending = { key: string };

const nowSeconds = () => Math.floor(Date.now() / 1000);

const EMPTY = new Blob([]);
/** The parsed query of a request without one (never changed: cacheKey only reads it). */
const NO_QUERY: Record<string, never> = Object.freeze(Object.create(null));

export const proxyCache: PluginDescriptor<ProxyCacheConfig> = {
  name: "proxy-cache",
  priority: 100,
  version: "1.0.0",
  get config() {
    return proxyCacheConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config, env) {
    const store = dictionary(config.memory.dictionary_name);
    const methods = new Set<string>(config.request_method);
    const codes = new Set(config.response_code);
    const types = config.content_type.map(parseMediaType).filter((t) => t !== null);
    const cacheTtl = config.cache_ttl ?? 300;
    const pending = new WeakMap<PluginContext, Pending>();
    const shown = config.response_headers;
    /** Kong's set_header: the diagnostic headers that are switched on, all of them when Kong-Debug is sent. */
    const show = (request: Request, name: keyof typeof shown) =>
      shown[name] || request.headers.has("kong-debug");
    const status = (ctx: PluginContext, value: string) => {
      if (show(ctx.request, "X-Cache-Status")) ctx.setResponseHeader("X-Cache-Status", value);
    };
    const showKey = (ctx: PluginContext, key: string) => {
      if (show(ctx.request, "X-Cache-Key")) ctx.setResponseHeader("X-Cache-Key", key);
    };
    const miss = (ctx: PluginContext, key: string, value: "Miss" | "Refresh") => {
      showKey(ctx, key);
      pending.set(ctx, { key });
      status(ctx, value);
      return undefined;
    };

    /** Kong's access phase up to its decision: what the cache holds for this request. */
    const lookup = (
      request: Request,
      method: string,
      query: string,
      consumerId: string | null,
      routeId: string,
    ): Lookup => {
      const requestHeaders = request.headers;
      const cc = parseDirectives(requestHeaders.get("cache-control"));
      if (!cacheableRequest(request, method, config, methods, cc)) return BYPASS;
      const url = request.url;
      let path = url.charCodeAt(0) === 47 ? url : url.slice(url.indexOf("/", url.indexOf("//") + 2));
      const q = path.indexOf("?");
      // Kong hashes nginx's request line with its query cut off (`GET /p`, or `GET /p HTTP/1.1` without one).
      path = q < 0 ? `${method} ${path} HTTP/1.1` : `${method} ${path.slice(0, q)}`;
      const key = cacheKey({
        consumerId,
        routeId,
        method,
        uri: config.ignore_uri_case ? path.toLowerCase() : path,
        query: query === "" ? NO_QUERY : parseQuery(query.slice(1)),
        headers: requestHeaders,
        varyQueryParams: config.vary_query_params,
        varyHeaders: config.vary_headers,
      });
      const entry = store.fetch(key);
      if (entry === undefined)
        // RFC 7234 §5.2.1.7: the client wants a cached answer or none.
        return { kind: config.cache_control && cc.has("only-if-cached") ? "only-if-cached" : "miss", key };
      const age = nowSeconds() - entry.timestamp;
      if (config.cache_control) {
        const maxAge = seconds(cc, "max-age");
        const maxStale = seconds(cc, "max-stale");
        const minFresh = seconds(cc, "min-fresh");
        if (
          (maxAge !== undefined && age > maxAge) ||
          (maxStale !== undefined && age - entry.ttl > maxStale) ||
          (minFresh !== undefined && entry.ttl - age < minFresh)
        )
          return { kind: "refresh", key };
      } else if (age > cacheTtl) return { kind: "refresh", key };
      return { kind: "hit", key, entry, age };
    };

    /**
     * A stored response as the answer: its status, headers and body, with Age and the diagnostic headers
     * (Kong's reset_res_header: what the miss carried is never replayed). The entry's headers are copied as
     * built when it was stored, and its Blob body is shared, not copied.
     */
    const hit = (
      request: Request,
      { entry, age }: Lookup & { kind: "hit" },
      answer: (status: number, body: Blob | null, headers: Headers) => Response,
    ): Response => {
      const body = entry.body;
      const response = answer(entry.status, body.size === 0 ? null : body, entry.hitHeaders);
      const headers = response.headers;
      if (show(request, "age")) headers.set("age", String(age));
      else headers.delete("age");
      if (!show(request, "X-Cache-Status")) headers.delete("X-Cache-Status");
      if (!show(request, "X-Cache-Key")) headers.delete("X-Cache-Key");
      return response;
    };

    return {
      access(ctx) {
        const found = lookup(ctx.request, ctx.method, ctx.query, ctx.consumer?.id ?? null, ctx.route.id);
        switch (found.kind) {
          case "bypass":
            status(ctx, "Bypass");
            return undefined;
          case "only-if-cached":
            showKey(ctx, found.key);
            return ctx.exit(504);
          case "miss":
            return miss(ctx, found.key, "Miss");
          case "refresh":
            return miss(ctx, found.key, "Refresh");
          case "hit":
            return hit(ctx.request, found, (code, body, headers) => ctx.exitWithHeaders(code, body, headers));
        }
      },

      // A hit answered before the request has a plugin context; anything else goes the usual way.
      shortcut(facts) {
        const found = lookup(facts.request, facts.method, facts.query, null, facts.routeId);
        if (found.kind !== "hit") return undefined;
        return hit(facts.request, found, (code, body, headers) =>
          answerWithHeaders(code, body, headers, facts.serverToken, facts.requestId, facts.start),
        );
      },

      response(ctx, response, source) {
        const waiting = pending.get(ctx);
        if (waiting === undefined) return undefined;
        pending.delete(ctx);
        const cc = parseDirectives(response.headers.get("cache-control"));
        const ttl = config.cache_control ? resourceTtl(cc, response.headers.get("expires")) : cacheTtl;
        // Only the upstream's answers are stored (Kong would also store another plugin's cacheable answer).
        if (source !== "service" || !cacheableResponse(response, config, codes, types, cc, ttl)) {
          if (show(ctx.request, "X-Cache-Status")) response.headers.set("X-Cache-Status", "Bypass");
          return undefined;
        }
        const storageTtl = config.storage_ttl ?? ttl;
        const headers: [string, string][] = [];
        for (const [name, value] of response.headers) if (storable(name)) headers.push([name, value]);
        const entry = (body: Blob) =>
          cachedResponse(waiting.key, {
            status: response.status,
            headers,
            body,
            timestamp: nowSeconds(),
            ttl,
            expiresAt: Date.now() + storageTtl * 1000,
          });
        if (response.body === null) {
          store.store(waiting.key, entry(EMPTY));
          return undefined;
        }
        const announced = response.headers.get("content-length");
        if (announced !== null && Number(announced) > MAX_ENTRY_BYTES) return undefined;
        // The client's copy streams on; the cache's copy is collected beside it and stored once complete.
        const [toClient, toCache] = response.body.tee();
        collect(toCache, MAX_ENTRY_BYTES).then(
          (body) => {
            if (body !== null) store.store(waiting.key, entry(body));
          },
          (error) => env.log(`proxy-cache: response not stored: ${error}`),
        );
        return new Response(toClient, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      },
    };
  },
};

/** Kong's cacheable_request: a configured method, and with cache_control no no-store / no-cache / Authorization. */
function cacheableRequest(
  request: Request,
  method: string,
  config: ProxyCacheConfig,
  methods: ReadonlySet<string>,
  cc: Directives,
): boolean {
  if (!methods.has(method)) return false;
  return !(
    config.cache_control &&
    (cc.has("no-store") || cc.has("no-cache") || request.headers.has("authorization"))
  );
}

/** Kong's cacheable_response: a configured status and content type; with cache_control, a positive TTL. */
function cacheableResponse(
  response: Response,
  config: ProxyCacheConfig,
  codes: ReadonlySet<number>,
  types: Parameters<typeof contentTypeMatches>[1],
  cc: Directives,
  ttl: number,
): boolean {
  if (!codes.has(response.status)) return false;
  if (!contentTypeMatches(response.headers.get("content-type"), types)) return false;
  if (config.cache_control && (cc.has("private") || cc.has("no-store") || cc.has("no-cache"))) return false;
  return !(config.cache_control && ttl <= 0);
}

/** Reads a body to its end; null when it outgrows `limit` (then it is not stored, and no longer read). */
async function collect(body: ReadableStream<Uint8Array<ArrayBuffer>>, limit: number): Promise<Blob | null> {
  const reader = body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return new Blob(chunks);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
}
