// Black-box: proxy-cache through the real gateway and a real upstream that numbers its answers — Miss then
// Hit (same body, Age, Kong's X-Cache-Key), query and header variance, Bypass for methods, statuses and
// content types it does not cache, Cache-Control honoured with cache_control, only-if-cached, Refresh after
// cache_ttl, the diagnostic headers switched off (and back on with Kong-Debug), a miss still streamed to the
// client while it is stored, Kong's validation messages and defaults, scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startUpstream, type Upstream } from "../proxy/helpers.ts";
import { admin, expectPrecedence, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

let w: PluginWorld;
let origin: Upstream;
let served = 0;
let releaseRest: () => void = () => {};
const routeIds: Record<string, string> = {};
const encoder = new TextEncoder();

/** The upstream: `/<type>/<status>?…` answers `{"n": <how many it served>}` with that type and status. */
function answer(request: Request): Response {
  const url = new URL(request.url);
  served++;
  const [, kind, code] = url.pathname.split("/");
  const cc = url.searchParams.get("cc");
  const headers: Record<string, string> = { "x-upstream": "yes" };
  if (cc !== null) headers["cache-control"] = cc;
  if (kind === "stream") {
    const rest = new Promise<void>((resolve) => {
      releaseRest = resolve;
    });
    return new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode(`first ${served};`));
          await rest;
          controller.enqueue(encoder.encode("rest"));
          controller.close();
        },
      }),
      { headers: { ...headers, "content-type": "text/plain" } },
    );
  }
  const type = { json: "application/json", utf8: "application/json; charset=utf-8", html: "text/html" }[
    kind!
  ];
  return new Response(JSON.stringify({ n: served }), {
    status: Number(code ?? 200),
    headers: { ...headers, "content-type": type ?? "text/plain" },
  });
}

const ROUTES: [string, string, Record<string, unknown>][] = [
  ["/c", "/json/200", {}],
  ["/vary", "/json/200", { vary_query_params: ["a"], vary_headers: ["x-tenant"] }],
  ["/c-utf8", "/utf8/200", {}],
  ["/c-html", "/html/200", {}],
  ["/c-500", "/json/500", {}],
  ["/c-404", "/json/404", {}],
  ["/cc", "/json/200", { cache_control: true }],
  // Kept in storage longer than it is fresh, so a stale entry is refreshed (else it is simply gone: Miss).
  ["/ttl", "/json/200", { cache_ttl: 1, storage_ttl: 60 }],
  [
    "/quiet",
    "/json/200",
    { response_headers: { age: false, "X-Cache-Status": false, "X-Cache-Key": false } },
  ],
  ["/stream", "/stream/200", {}],
  ["/case", "/json/200", { ignore_uri_case: true }],
];

beforeAll(async () => {
  w = await startWorld();
  origin = startUpstream(answer);
  for (const [path, target, config] of ROUTES) {
    const svc = await admin(w.tg, "POST", "/services", { url: `${origin.url}${target}` });
    const route = await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: [path] });
    routeIds[path] = route.id;
    await admin(w.tg, "POST", `/routes/${route.id}/plugins`, {
      name: "proxy-cache",
      config: { strategy: "memory", ...config },
    });
  }
  await w.synced();
});

afterAll(async () => {
  releaseRest();
  await w.stop();
  await origin.stop();
});

const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");

async function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  const a = await w.call(path, { headers, method });
  return {
    status: a.status,
    cache: a.headers.get("x-cache-status"),
    n: a.body?.n as number | undefined,
    key: a.headers.get("x-cache-key"),
    age: a.headers.get("age"),
    headers: a.headers,
    text: a.text,
  };
}

describe("proxy-cache", () => {
  test("Miss, then Hit with the same body, Age and Kong's cache key", async () => {
    const first = await get("/c");
    expect({ status: first.status, cache: first.cache, age: first.age }).toEqual({
      status: 200,
      cache: "Miss",
      age: null,
    });
    // Kong's key: sha256 of route id | method | request line without query | query part | headers part.
    expect(first.key).toBe(sha256(`${routeIds["/c"]}|GET|GET /c HTTP/1.1||`));
    const second = await get("/c");
    expect({ status: second.status, cache: second.cache, n: second.n, key: second.key }).toEqual({
      status: 200,
      cache: "Hit",
      n: first.n,
      key: first.key,
    });
    expect(Number(second.age)).toBeGreaterThanOrEqual(0);
    expect(second.headers.get("x-upstream")).toBe("yes");
    expect(second.headers.get("content-type")).toBe("application/json");
    expect(second.headers.get("content-length")).toBe(String(second.text.length));
    expect(second.headers.get("x-portico-request-id")).not.toBe(first.headers.get("x-portico-request-id"));
  });

  test("every query argument is part of the key by default, sorted", async () => {
    const a = await get("/c?b=2&a=1");
    expect(a.cache).toBe("Miss");
    expect(a.key).toBe(sha256(`${routeIds["/c"]}|GET|GET /c|a=1:b=2|`));
    expect((await get("/c?a=1&b=2")).cache).toBe("Hit");
    expect((await get("/c?a=1&b=3")).cache).toBe("Miss");
  });

  test("vary_query_params and vary_headers choose what is in the key", async () => {
    expect((await get("/vary?a=1&b=1")).cache).toBe("Miss");
    expect((await get("/vary?a=1&b=2")).cache).toBe("Hit");
    expect((await get("/vary?a=2")).cache).toBe("Miss");
    const tenant = await get("/vary?a=1", { "x-tenant": "t1" });
    expect(tenant.cache).toBe("Miss");
    expect(tenant.key).toBe(sha256(`${routeIds["/vary"]}|GET|GET /vary|a=1|x-tenant=t1`));
    expect((await get("/vary?a=1", { "x-tenant": "t1" })).cache).toBe("Hit");
  });

  test("Bypass: a method, status or content type it does not cache", async () => {
    const post = await get("/c", {}, "POST");
    expect({ cache: post.cache, key: post.key }).toEqual({ cache: "Bypass", key: null });
    for (const path of ["/c-utf8", "/c-html", "/c-500"]) {
      const one = await get(path);
      const two = await get(path);
      expect({ path, caches: [one.cache, two.cache], fresh: two.n! > one.n! }).toEqual({
        path,
        caches: ["Bypass", "Bypass"],
        fresh: true,
      });
    }
    expect((await get("/c-404")).cache).toBe("Miss");
    const hit = await get("/c-404");
    expect({ status: hit.status, cache: hit.cache }).toEqual({ status: 404, cache: "Hit" });
  });

  test("HEAD is cached apart from GET", async () => {
    const res = await w.tg.proxy("/case/head", { method: "HEAD" });
    expect(res.headers.get("x-cache-status")).toBe("Miss");
    const again = await w.tg.proxy("/case/head", { method: "HEAD" });
    expect({
      status: again.status,
      cache: again.headers.get("x-cache-status"),
      text: await again.text(),
    }).toEqual({
      status: 200,
      cache: "Hit",
      text: "",
    });
  });

  test("ignore_uri_case: paths differing in case share an entry", async () => {
    expect((await get("/case/Mixed")).cache).toBe("Miss");
    expect((await get("/case/mixed")).cache).toBe("Hit");
  });

  test("cache_control: the client's and the upstream's Cache-Control are honoured", async () => {
    expect((await get("/cc?cc=private")).cache).toBe("Bypass");
    expect((await get("/cc?cc=max-age%3D0")).cache).toBe("Bypass");
    expect((await get("/cc?cc=no-store")).cache).toBe("Bypass");
    // No max-age and no Expires: a TTL of 0, so nothing is stored.
    expect((await get("/cc")).cache).toBe("Bypass");
    expect((await get("/cc?cc=max-age%3D100")).cache).toBe("Miss");
    expect((await get("/cc?cc=max-age%3D100")).cache).toBe("Hit");
    expect((await get("/cc?cc=max-age%3D100", { "cache-control": "no-cache" })).cache).toBe("Bypass");
    expect((await get("/cc?cc=max-age%3D100", { authorization: "Bearer x" })).cache).toBe("Bypass");
    expect((await get("/cc?cc=max-age%3D100", { "cache-control": "min-fresh=1000" })).cache).toBe("Refresh");
    const only = await w.call("/cc?never=stored", { headers: { "cache-control": "only-if-cached" } });
    expect({ status: only.status, text: only.text }).toEqual({ status: 504, text: "" });
  });

  test("an entry older than cache_ttl is refreshed", async () => {
    const first = await get("/ttl");
    expect(first.cache).toBe("Miss");
    const deadline = Date.now() + 15_000;
    let last = await get("/ttl");
    while (last.cache === "Hit" && Date.now() < deadline) {
      await Bun.sleep(200);
      last = await get("/ttl");
    }
    expect(last.cache).toBe("Refresh");
    expect(last.n).toBeGreaterThan(first.n!);
    expect((await get("/ttl")).n).toBe(last.n);
  });

  test("response_headers switched off; Kong-Debug shows them anyway", async () => {
    await get("/quiet");
    const quiet = await get("/quiet");
    expect({ cache: quiet.cache, key: quiet.key, age: quiet.age }).toEqual({
      cache: null,
      key: null,
      age: null,
    });
    const debug = await get("/quiet", { "kong-debug": "1" });
    expect(debug.cache).toBe("Hit");
    expect(debug.key).toMatch(/^[0-9a-f]{64}$/);
    expect(debug.age).not.toBeNull();
    // What a Kong-Debug miss carried (stored with the entry) is not replayed to a quiet hit.
    expect((await get("/quiet/debug-first", { "kong-debug": "1" })).cache).toBe("Miss");
    const after = await get("/quiet/debug-first");
    expect({ cache: after.cache, key: after.key, age: after.age, n: after.n! > 0 }).toEqual({
      cache: null,
      key: null,
      age: null,
      n: true,
    });
    const again = await get("/quiet/debug-first", { "kong-debug": "1" });
    expect({ cache: again.cache, n: again.n }).toEqual({ cache: "Hit", n: after.n });
  });

  test("a miss streams to the client while it is stored", async () => {
    const res = await w.tg.proxy("/stream");
    expect(res.headers.get("x-cache-status")).toBe("Miss");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes(";")) text += decoder.decode((await reader.read()).value);
    releaseRest();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toMatch(/^first \d+;rest$/);
    // Stored once the body was complete (poll: the cache's copy finishes beside the client's).
    let again = await w.call("/stream");
    for (let i = 0; i < 50 && again.headers.get("x-cache-status") !== "Hit"; i++) {
      releaseRest();
      await Bun.sleep(20);
      again = await w.call("/stream");
    }
    expect({ cache: again.headers.get("x-cache-status"), text: again.text }).toEqual({ cache: "Hit", text });
  });

  test("Kong's validation messages", async () => {
    const pc = (config: unknown) => refusedConfig(w, { name: "proxy-cache", config });
    expect(await pc({})).toEqual({ config: { strategy: "required field missing" } });
    expect(await pc({ strategy: "redis" })).toEqual({ config: { strategy: "expected one of: memory" } });
    expect(
      await pc({
        strategy: "memory",
        cache_ttl: 0,
        response_code: [],
        request_method: ["DELETE"],
        storage_ttl: 1.5,
      }),
    ).toEqual({
      config: {
        cache_ttl: "value must be greater than 0",
        response_code: "length must be at least 1",
        request_method: ["expected one of: HEAD, GET, POST, PATCH, PUT"],
        storage_ttl: "expected an integer",
      },
    });
    expect(await pc({ strategy: "memory", response_code: [99, 200, 901] })).toEqual({
      config: {
        response_code: ["value should be between 100 and 900", null, "value should be between 100 and 900"],
      },
    });
    expect(await pc({ strategy: "memory", response_headers: { age: "no" }, vary_headers: "x" })).toEqual({
      config: { response_headers: { age: "expected a boolean" }, vary_headers: "expected an array" },
    });
  });

  test("defaults as Kong renders them", async () => {
    const created = await admin(w.tg, "POST", "/plugins", {
      name: "proxy-cache",
      enabled: false,
      config: { strategy: "memory" },
    });
    expect(created.config).toEqual({
      response_code: [200, 301, 404],
      request_method: ["GET", "HEAD"],
      content_type: ["text/plain", "application/json"],
      cache_ttl: 300,
      strategy: "memory",
      cache_control: false,
      ignore_uri_case: false,
      storage_ttl: null,
      memory: { dictionary_name: "kong_db_cache" },
      vary_query_params: null,
      vary_headers: null,
      response_headers: { age: true, "X-Cache-Status": true, "X-Cache-Key": true },
    });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });

  test("global → service → route → consumer precedence", async () => {
    // The recording upstream answers `application/json;charset=utf-8`: listed (Kong matches types exactly)
    // everywhere but on the consumer's configuration, whose answers are therefore Bypass.
    const on = (headers: Record<string, boolean>, extra: Record<string, unknown> = {}) => ({
      strategy: "memory",
      content_type: ["application/json; charset=utf-8"],
      response_headers: { age: false, "X-Cache-Status": true, "X-Cache-Key": true, ...headers },
      ...extra,
    });
    await expectPrecedence(
      w,
      "proxy-cache",
      {
        global: on({ "X-Cache-Key": false }),
        service: on({ "X-Cache-Status": false }),
        route: on({}),
        consumer: on(
          {},
          { content_type: ["application/json"], memory: { dictionary_name: "consumer-dict" } },
        ),
      },
      async (path, headers) => {
        const a = await w.call(path, { headers });
        const status = a.headers.get("x-cache-status");
        const key = a.headers.get("x-cache-key");
        if (status === "Bypass") return "consumer";
        if (status !== null && key !== null) return "route";
        if (status !== null) return "global";
        return key !== null ? "service" : "none";
      },
    );
  });
});

describe("proxy-cache among other plugins (Kong's phases around a hit)", () => {
  const dir = mkdtempSync(join(tmpdir(), "portico-proxy-cache-"));
  const logFile = join(dir, "requests.log");
  let routeId = "";
  let consumerId = "";

  beforeAll(async () => {
    const svc = await admin(w.tg, "POST", "/services", { url: `${origin.url}/json/200` });
    routeId = (await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: ["/guarded"] })).id;
    for (const plugin of [
      { name: "key-auth" },
      { name: "proxy-cache", config: { strategy: "memory" } },
      { name: "response-transformer", config: { add: { headers: ["x-transformed:yes"] } } },
      { name: "file-log", config: { path: logFile } },
    ])
      await admin(w.tg, "POST", `/routes/${routeId}/plugins`, plugin);
    // Without authentication in front: the cache's first, but a response or log plugin must still see hits.
    for (const [path, plugin] of [
      [
        "/cached-transformed",
        { name: "response-transformer", config: { add: { headers: ["x-transformed:yes"] } } },
      ],
      ["/cached-logged", { name: "file-log", config: { path: logFile } }],
    ] as const) {
      const route = await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: [path] });
      await admin(w.tg, "POST", `/routes/${route.id}/plugins`, {
        name: "proxy-cache",
        config: { strategy: "memory" },
      });
      await admin(w.tg, "POST", `/routes/${route.id}/plugins`, plugin);
    }
    consumerId = (await admin(w.tg, "POST", "/consumers", { username: "cached-alice" })).id;
    await admin(w.tg, "POST", "/consumers/cached-alice/key-auth", { key: "cached-key" });
    await w.synced();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The file-log record of a request, once written. */
  async function logged(requestId: string) {
    for (let i = 0; i < 400; i++) {
      const lines = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n") : [];
      const line = lines.find((l) => l.includes(requestId));
      if (line !== undefined) return JSON.parse(line);
      await Bun.sleep(25);
    }
    throw new Error(`request ${requestId} was not logged`);
  }

  test("authentication runs before the cache: a cached answer is never given without credentials", async () => {
    const key = { apikey: "cached-key" };
    const miss = await get("/guarded", key);
    const hit = await get("/guarded", key);
    expect([miss.cache, hit.cache, hit.n]).toEqual(["Miss", "Hit", miss.n]);
    // The consumer key-auth identified is part of Kong's key.
    expect(hit.key).toBe(sha256(`${consumerId}:${routeId}|GET|GET /guarded HTTP/1.1||`));
    const refused = await get("/guarded");
    expect({ status: refused.status, cache: refused.cache, n: refused.n }).toEqual({
      status: 401,
      cache: null,
      n: undefined,
    });
    const wrong = await get("/guarded", { apikey: "not-a-key" });
    expect({ status: wrong.status, cache: wrong.cache }).toEqual({ status: 401, cache: null });
  });

  test("response plugins change a hit as they change a miss, and log plugins log the hit", async () => {
    const key = { apikey: "cached-key" };
    await get("/guarded?logged=1", key);
    const hit = await get("/guarded?logged=1", key);
    expect(hit.cache).toBe("Hit");
    expect(hit.headers.get("x-transformed")).toBe("yes");
    const requestId = hit.headers.get("x-portico-request-id")!;
    const record = await logged(requestId);
    expect({
      status: record.response.status,
      cache: record.response.headers["x-cache-status"],
      transformed: record.response.headers["x-transformed"],
      size: record.response.size > hit.text.length,
      consumer: record.consumer?.id,
      uri: record.request.uri,
    }).toEqual({
      status: 200,
      cache: "Hit",
      transformed: "yes",
      size: true,
      consumer: consumerId,
      uri: "/guarded?logged=1",
    });
  });

  test("a hit with only a response or a log plugin beside the cache is still seen by it", async () => {
    await get("/cached-transformed");
    const transformed = await get("/cached-transformed");
    expect([transformed.cache, transformed.headers.get("x-transformed")]).toEqual(["Hit", "yes"]);
    await get("/cached-logged");
    const hit = await get("/cached-logged");
    expect(hit.cache).toBe("Hit");
    const record = await logged(hit.headers.get("x-portico-request-id")!);
    expect([record.response.status, record.response.headers["x-cache-status"], record.request.uri]).toEqual([
      200,
      "Hit",
      "/cached-logged",
    ]);
  });
});
