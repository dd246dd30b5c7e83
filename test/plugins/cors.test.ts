// Black-box: the cors plugin through the real gateway and a real upstream — Kong's preflight answers and
// response headers (kong/plugins/cors, its spec's cases reproduced), preflights on routes that do not list
// OPTIONS, headers on other plugins' answers and gateway errors, config validation, scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type Answer,
  admin,
  expectPrecedence,
  type PluginWorld,
  refusedConfig,
  startWorld,
} from "./helpers.ts";

let w: PluginWorld;
const DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT";

const preflight = (path: string, origin: string, extra: Record<string, string> = {}) =>
  w.call(path, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "GET", ...extra },
  });

/** The CORS headers of an answer (absent ones as null). */
function corsHeaders(answer: Answer) {
  const h = answer.headers;
  return {
    origin: h.get("access-control-allow-origin"),
    methods: h.get("access-control-allow-methods"),
    headers: h.get("access-control-allow-headers"),
    expose: h.get("access-control-expose-headers"),
    credentials: h.get("access-control-allow-credentials"),
    maxAge: h.get("access-control-max-age"),
    vary: h.get("vary"),
  };
}

const none = {
  origin: null,
  methods: null,
  headers: null,
  expose: null,
  credentials: null,
  maxAge: null,
  vary: null,
};

beforeAll(async () => {
  w = await startWorld();
  const routes: [string, Record<string, unknown>][] = [
    ["/defaults", {}],
    [
      "/options",
      {
        origins: ["example.test"],
        methods: ["GET"],
        headers: ["origin", "type", "accepts"],
        exposed_headers: ["x-auth-token"],
        max_age: 23,
        credentials: true,
      },
    ],
    ["/continue", { origins: ["example.test"], preflight_continue: true }],
    ["/star-credentials", { origins: ["*"], credentials: true }],
    ["/empty-origins", { origins: [] }],
    ["/flat", { origins: ["http://my-site.test", "http://my-other-site.test"] }],
    ["/star-among", { origins: ["foo.bar", "*"] }],
    ["/private", { private_network: true, origins: ["allowed-domain.test"] }],
    ["/absent-off", { allow_origin_absent: false, origins: ["foo.bar"], exposed_headers: ["x-auth-token"] }],
    ["/with-auth", {}],
  ];
  const { routes: ids } = await w.service(
    "cors",
    routes.map(([path]) => path),
  );
  for (let i = 0; i < routes.length; i++)
    await admin(w.tg, "POST", `/routes/${ids[i]}/plugins`, { name: "cors", config: routes[i]![1] });
  await admin(w.tg, "POST", `/routes/${ids[routes.length - 1]}/plugins`, { name: "key-auth" });

  // Routes that only list GET: one with cors, one without.
  const svc = await admin(w.tg, "GET", "/services/cors");
  const getOnly = await admin(w.tg, "POST", `/services/${svc.id}/routes`, {
    paths: ["/get-only"],
    methods: ["GET"],
  });
  await admin(w.tg, "POST", `/routes/${getOnly.id}/plugins`, {
    name: "cors",
    config: { origins: ["http://app.test"] },
  });
  await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: ["/get-only-bare"], methods: ["GET"] });

  // A service whose upstream refuses connections.
  const down = await admin(w.tg, "POST", "/services", { name: "cors-down", url: "http://127.0.0.1:1" });
  const downRoute = await admin(w.tg, "POST", `/services/${down.id}/routes`, { paths: ["/down"] });
  await admin(w.tg, "POST", `/routes/${downRoute.id}/plugins`, {
    name: "cors",
    config: { origins: ["example.test"], exposed_headers: ["x-auth-token"] },
  });
  await w.synced();
});

afterAll(() => w.stop());

describe("cors preflight (answered by the gateway)", () => {
  test("defaults: 200, empty body, every method, * and no Vary", async () => {
    const answer = await preflight("/defaults", "origin1.test");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-length")).toBe("0");
    expect(answer.text).toBe("");
    expect(corsHeaders(answer)).toEqual({ ...none, origin: "*", methods: DEFAULT_METHODS });
    expect(answer.headers.get("x-portico-request-id")).toBeTruthy();
  });

  test("an empty origins list is * too", async () => {
    expect(corsHeaders(await preflight("/empty-origins", "empty-origin.test"))).toEqual({
      ...none,
      origin: "*",
      methods: DEFAULT_METHODS,
    });
  });

  test("config options: methods, headers, max age, credentials, the one configured origin, Vary", async () => {
    const before = w.upstream.received.length;
    const answer = await preflight("/options", "origin5.test");
    expect(answer.status).toBe(200);
    expect(corsHeaders(answer)).toEqual({
      origin: "example.test",
      methods: "GET",
      headers: "origin,type,accepts",
      expose: null,
      credentials: "true",
      maxAge: "23",
      vary: "Origin",
    });
    expect(w.upstream.received.length).toBe(before);
  });

  test("* with credentials echoes the request's origin", async () => {
    expect(corsHeaders(await preflight("/star-credentials", "origin5.test"))).toEqual({
      ...none,
      origin: "origin5.test",
      methods: DEFAULT_METHODS,
      credentials: "true",
      vary: "Origin",
    });
  });

  test("a * among several origins allows any origin", async () => {
    const answer = await preflight("/star-among", "http://www.example.net");
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("requested headers are echoed when none are configured", async () => {
    const answer = await preflight("/star-credentials", "origin5.test", {
      "access-control-request-headers": "origin,accepts",
    });
    expect(answer.headers.get("access-control-allow-headers")).toBe("origin,accepts");
  });

  test("private network access only when asked for and enabled", async () => {
    const asked = { "access-control-request-private-network": "true" };
    expect(
      (await preflight("/private", "allowed-domain.test", asked)).headers.get(
        "access-control-allow-private-network",
      ),
    ).toBe("true");
    expect(
      (await preflight("/private", "allowed-domain.test")).headers.get(
        "access-control-allow-private-network",
      ),
    ).toBeNull();
    expect(
      (await preflight("/defaults", "x.test", asked)).headers.get("access-control-allow-private-network"),
    ).toBeNull();
  });

  test("preflight_continue: the preflight goes upstream untouched, without CORS headers added", async () => {
    const answer = await preflight("/continue", "http://a.test");
    expect(answer.status).toBe(200);
    expect(answer.body.method).toBe("OPTIONS");
    expect(answer.body.headers["access-control-request-method"]).toBe("GET");
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("runs before authentication: a preflight needs no key", async () => {
    const answer = await preflight("/with-auth", "http://a.test");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("cors preflight on a route that does not list OPTIONS", () => {
  test("reaches the route's cors plugin (Kong answers 404 here)", async () => {
    const answer = await preflight("/get-only/x", "http://app.test");
    expect(answer.status).toBe(200);
    expect(corsHeaders(answer)).toEqual({
      ...none,
      origin: "http://app.test",
      methods: DEFAULT_METHODS,
      vary: "Origin",
    });
  });

  test("a route without cors, a method the route does not take, or a plain OPTIONS still get 404", async () => {
    await w.refused(
      "/get-only-bare/x",
      { method: "OPTIONS", headers: { origin: "http://app.test", "access-control-request-method": "GET" } },
      404,
      "no Route matched with those values",
    );
    await w.refused(
      "/get-only/x",
      {
        method: "OPTIONS",
        headers: { origin: "http://app.test", "access-control-request-method": "DELETE" },
      },
      404,
      "no Route matched with those values",
    );
    await w.refused(
      "/get-only/x",
      { method: "OPTIONS", headers: { origin: "http://app.test" } },
      404,
      "no Route matched with those values",
    );
    await w.refused(
      "/get-only/x",
      { method: "OPTIONS", headers: { "access-control-request-method": "GET" } },
      404,
      "no Route matched with those values",
    );
  });

  test("the route's GET still works and carries the headers", async () => {
    const answer = await w.call("/get-only/x", { headers: { origin: "http://app.test" } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe("http://app.test");
  });
});

describe("cors on other responses", () => {
  test("defaults on a proxied GET: * only", async () => {
    const answer = await w.call("/defaults");
    expect(answer.status).toBe(200);
    expect(corsHeaders(answer)).toEqual({ ...none, origin: "*" });
  });

  test("a non-preflight OPTIONS is proxied and gets the headers", async () => {
    const answer = await w.call("/defaults/anything", { method: "OPTIONS" });
    expect(answer.body.method).toBe("OPTIONS");
    expect(corsHeaders(answer)).toEqual({ ...none, origin: "*" });
  });

  test("config options on a GET: origin, exposed headers, credentials, Vary — no preflight headers", async () => {
    expect(corsHeaders(await w.call("/options"))).toEqual({
      ...none,
      origin: "example.test",
      expose: "x-auth-token",
      credentials: "true",
      vary: "Origin",
    });
  });

  test("one literal origin is the answer whatever the request's Origin (another, or none); * with credentials echoes it", async () => {
    const origins: Record<string, string>[] = [
      { origin: "http://app.test" },
      { origin: "http://other.test" },
      {},
    ];
    for (const headers of origins) {
      const answer = await w.call("/get-only/x", { headers });
      expect(answer.status).toBe(200);
      expect(corsHeaders(answer)).toEqual({ ...none, origin: "http://app.test", vary: "Origin" });
    }
    const echoed = await w.call("/star-credentials", { headers: { origin: "http://other.test" } });
    expect(corsHeaders(echoed)).toEqual({
      ...none,
      origin: "http://other.test",
      credentials: "true",
      vary: "Origin",
    });
    expect(corsHeaders(await w.call("/star-credentials"))).toEqual({ ...none, origin: "*" });
  });

  test("flat origins are compared whole: tricky look-alikes get no Access-Control-Allow-Origin", async () => {
    const at = async (origin: string) =>
      (await w.call("/flat", { headers: { origin } })).headers.get("access-control-allow-origin");
    expect(await at("http://my-site.test")).toBe("http://my-site.test");
    expect(await at("http://my-site.test:80")).toBe("http://my-site.test");
    expect(await at("http://bad-guys.test")).toBeNull();
    expect(await at("http://my-site.test.bad-guys.test")).toBeNull();
  });

  test("an upstream's own Access-Control-Allow-Origin is removed when the origin is not allowed", async () => {
    const answer = await w.call("/flat", { headers: { origin: "http://bad-guys.test" } });
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
    expect(answer.headers.get("vary")).toBe("Origin");
  });

  test("allow_origin_absent=false: no headers without an Origin, headers with one", async () => {
    expect(corsHeaders(await w.call("/absent-off"))).toEqual(none);
    expect(corsHeaders(await w.call("/absent-off", { headers: { origin: "http://foo.bar" } }))).toEqual({
      ...none,
      origin: "foo.bar",
      expose: "x-auth-token",
      vary: "Origin",
    });
  });

  test("a 401 from key-auth carries the headers (so the browser can read it)", async () => {
    const answer = await w.refused("/with-auth", undefined, 401, "No API key found in request");
    expect(corsHeaders(answer)).toEqual({ ...none, origin: "*" });
  });

  test("a 502 from an upstream that refuses carries the headers", async () => {
    const answer = await w.call("/down");
    expect(answer.status).toBe(502);
    expect(corsHeaders(answer)).toEqual({
      ...none,
      origin: "example.test",
      expose: "x-auth-token",
      vary: "Origin",
    });
  });

  test("Kong's documented example, configured with a form body", async () => {
    const svc = await admin(w.tg, "POST", "/services", { name: "cors-doc", url: w.upstream.url });
    await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: ["/doc"] });
    const form = new URLSearchParams([
      ["name", "cors"],
      ["config.origins", "http://mockbin.com"],
      ["config.methods", "GET"],
      ["config.methods", "POST"],
      ...[
        "Accept",
        "Accept-Version",
        "Content-Length",
        "Content-MD5",
        "Content-Type",
        "Date",
        "X-Auth-Token",
      ].map((h) => ["config.headers", h]),
      ["config.exposed_headers", "X-Auth-Token"],
      ["config.credentials", "true"],
      ["config.max_age", "3600"],
    ]);
    const res = await w.tg.admin(`/services/${svc.id}/plugins`, { method: "POST", body: form });
    expect(res.status).toBe(201);
    const plugin = await res.json();
    expect(plugin.config).toEqual({
      origins: ["http://mockbin.com"],
      methods: ["GET", "POST"],
      headers: [
        "Accept",
        "Accept-Version",
        "Content-Length",
        "Content-MD5",
        "Content-Type",
        "Date",
        "X-Auth-Token",
      ],
      exposed_headers: ["X-Auth-Token"],
      credentials: true,
      max_age: 3600,
      private_network: false,
      preflight_continue: false,
      allow_origin_absent: true,
    });
    await w.synced();
    expect(corsHeaders(await preflight("/doc", "http://mockbin.com"))).toEqual({
      origin: "http://mockbin.com",
      methods: "GET,POST",
      headers: "Accept,Accept-Version,Content-Length,Content-MD5,Content-Type,Date,X-Auth-Token",
      expose: null,
      credentials: "true",
      maxAge: "3600",
      vary: "Origin",
    });
    expect(corsHeaders(await w.call("/doc", { headers: { origin: "http://mockbin.com" } }))).toEqual({
      ...none,
      origin: "http://mockbin.com",
      expose: "X-Auth-Token",
      credentials: "true",
      vary: "Origin",
    });
  });
});

describe("cors configuration", () => {
  test("bad configs are refused with Kong's messages", async () => {
    expect(await refusedConfig(w, { name: "cors", config: { origins: ["*", "(unclosed"] } })).toEqual({
      config: { origins: [null, "'(unclosed' is not a valid regex"] },
    });
    expect(await refusedConfig(w, { name: "cors", config: { methods: ["GET", "FETCH"] } })).toEqual({
      config: { methods: [null, `expected one of: ${DEFAULT_METHODS.replaceAll(",", ", ")}`] },
    });
    expect(
      await refusedConfig(w, { name: "cors", config: { max_age: "long", credentials: null, origins: "x" } }),
    ).toEqual({
      config: {
        max_age: "expected a number",
        credentials: "required field missing",
        origins: "expected an array",
      },
    });
  });

  test("cors cannot be scoped to a consumer (Kong's no_consumer)", async () => {
    const consumer = await w.consumer({ username: "cors-consumer" });
    expect(await refusedConfig(w, { name: "cors" }, `/consumers/${consumer.id}/plugins`)).toEqual({
      consumer: "value must be null",
    });
  });

  test("defaults as Kong renders them", async () => {
    const created = await admin(w.tg, "POST", "/plugins", { name: "cors", enabled: false });
    expect(created.config).toEqual({
      origins: null,
      headers: null,
      exposed_headers: null,
      methods: DEFAULT_METHODS.split(","),
      max_age: null,
      credentials: false,
      private_network: false,
      preflight_continue: false,
      allow_origin_absent: true,
    });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });
});

describe("cors scope precedence", () => {
  test("global → service → route (the most specific configuration answers)", async () => {
    await expectPrecedence(
      w,
      "cors",
      {
        global: { origins: ["http://global.test"] },
        service: { origins: ["http://service.test"] },
        route: { origins: ["http://route.test"] },
      },
      async (path, headers) => {
        const origin = (await w.call(path, { headers })).headers.get("access-control-allow-origin");
        return origin === null ? "none" : (new URL(origin).hostname.split(".")[0] as "global");
      },
    );
  });
});
