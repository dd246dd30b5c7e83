// Upstreams over REST exactly as Kong's: defaults (the whole healthchecks record), the hostname rule for names,
// hash_on / hash_fallback entity checks and shorthands, healthchecks ranges, nested merging on PATCH, PUT, 409s
// and form bodies — with Kong's error bodies (kong spec 07-upstreams_routes_spec.lua).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { call, schemaViolation, stamps, uniqueViolation } from "./helpers.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

export const HEALTHCHECK_DEFAULTS = {
  active: {
    type: "http",
    timeout: 1,
    concurrency: 10,
    http_path: "/",
    https_sni: null,
    https_verify_certificate: true,
    headers: null,
    healthy: { interval: 0, http_statuses: [200, 302], successes: 0 },
    unhealthy: {
      interval: 0,
      http_statuses: [429, 404, 500, 501, 502, 503, 504, 505],
      tcp_failures: 0,
      timeouts: 0,
      http_failures: 0,
    },
  },
  passive: {
    type: "http",
    healthy: {
      http_statuses: [
        200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
      ],
      successes: 0,
    },
    unhealthy: { http_statuses: [429, 500, 503], tcp_failures: 0, timeouts: 0, http_failures: 0 },
  },
  threshold: 0,
};

const UPSTREAM_DEFAULTS = {
  algorithm: "round-robin",
  hash_on: "none",
  hash_fallback: "none",
  hash_on_header: null,
  hash_fallback_header: null,
  hash_on_cookie: null,
  hash_on_cookie_path: "/",
  hash_on_query_arg: null,
  hash_fallback_query_arg: null,
  hash_on_uri_capture: null,
  hash_fallback_uri_capture: null,
  slots: 10000,
  healthchecks: HEALTHCHECK_DEFAULTS,
  tags: null,
  host_header: null,
  client_certificate: null,
  use_srv_name: false,
};

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}.test`;

async function post(body: Record<string, unknown>) {
  return call(tg, "/upstreams", { method: "POST", body });
}

describe("POST /upstreams", () => {
  test("a name is all it takes; every field is rendered with Kong's defaults, in order", async () => {
    const name = unique("defaults");
    const reply = await post({ name });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ ...stamps(reply.body), name, ...UPSTREAM_DEFAULTS });
    expect(Object.keys(reply.body)).toEqual([
      "id",
      "created_at",
      "updated_at",
      "name",
      ...Object.keys(UPSTREAM_DEFAULTS),
    ]);
    expect((await call(tg, `/upstreams/${name}`)).body).toEqual(reply.body);
    expect((await call(tg, `/upstreams/${reply.body.id}`)).body).toEqual(reply.body);
  });

  test("Kong's example without defaults: consumer hashing with an ip fallback", async () => {
    const name = unique("nodefaults");
    const reply = await post({
      name,
      slots: 10,
      hash_on: "consumer",
      hash_fallback: "ip",
      hash_on_header: "HeaderName",
      hash_fallback_header: "HeaderFallback",
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      algorithm: "consistent-hashing",
      slots: 10,
      hash_on: "consumer",
      hash_fallback: "ip",
      hash_on_header: "HeaderName",
      hash_fallback_header: "HeaderFallback",
    });
  });

  test("cookie hashing, two header hashes, 65536 slots, a host header", async () => {
    const cookie = await post({
      name: unique("cookie"),
      hash_on: "cookie",
      hash_on_cookie: "CookieName1",
      hash_on_cookie_path: "/foo",
    });
    expect(cookie.status).toBe(201);
    expect(cookie.body).toMatchObject({ hash_on_cookie: "CookieName1", hash_on_cookie_path: "/foo" });
    const headers = await post({
      name: unique("headers"),
      hash_on: "header",
      hash_fallback: "header",
      hash_on_header: "HeaderName1",
      hash_fallback_header: "HeaderName2",
    });
    expect(headers.status).toBe(201);
    expect((await post({ name: unique("slots"), slots: 65536 })).body.slots).toBe(65536);
    const host = await post({ name: unique("host"), host_header: "localhost:8080" });
    expect(host.body.host_header).toBe("localhost:8080");
  });

  test("a duplicate name is a 409 naming it", async () => {
    const name = unique("dup");
    expect((await post({ name })).status).toBe(201);
    const again = await post({ name });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(uniqueViolation(name));
  });

  test("form bodies reach nested healthchecks fields, typed by the schema", async () => {
    const name = unique("form");
    const reply = await call(tg, "/upstreams", {
      method: "POST",
      body: new URLSearchParams(
        `name=${name}&slots=20&healthchecks.active.healthy.interval=2.5&healthchecks.passive.unhealthy.http_statuses[]=500&healthchecks.passive.unhealthy.http_statuses[]=502`,
      ),
    });
    expect(reply.status).toBe(201);
    expect(reply.body.slots).toBe(20);
    expect(reply.body.healthchecks.active.healthy).toEqual({
      interval: 2.5,
      http_statuses: [200, 302],
      successes: 0,
    });
    expect(reply.body.healthchecks.passive.unhealthy.http_statuses).toEqual([500, 502]);
  });
});

describe("Kong's validation errors", () => {
  const conditional = (field: string) => `failed conditional validation given value of field '${field}'`;
  const badHeader =
    "bad header name 'not a <> valid <> header name', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
  const badCookie =
    'contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\\"/?={}[] are not allowed.';
  const FALLBACK_AFTER_CONSUMER = "expected one of: none, ip, header, cookie, path, query_arg, uri_capture";

  /** [label, body (name added unless given), fields] */
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["missing name", { name: undefined, slots: 50 }, { name: "required field missing" }],
    [
      "a name that is no host name",
      { name: "some invalid host name" },
      { name: "Invalid name ('some invalid host name'); must be a valid hostname" },
    ],
    [
      "an ip address as name",
      { name: "1.2.3.4" },
      { name: "Invalid name ('1.2.3.4'); no ip addresses allowed" },
    ],
    ["an ipv6 address as name", { name: "::1" }, { name: "Invalid name ('::1'); no ip addresses allowed" }],
    [
      "a name with a port",
      { name: "my.upstream:80" },
      { name: "Invalid name ('my.upstream:80'); no port allowed" },
    ],
    ["slots too many", { slots: 2 ** 16 + 1 }, { slots: "value should be between 10 and 65536" }],
    ["slots too few", { slots: 9 }, { slots: "value should be between 10 and 65536" }],
    [
      "unknown algorithm",
      { algorithm: "random" },
      { algorithm: "expected one of: consistent-hashing, least-connections, round-robin, latency" },
    ],
    [
      "invalid hash_on",
      { hash_on: "something that is invalid" },
      { hash_on: "expected one of: none, consumer, ip, header, cookie, path, query_arg, uri_capture" },
    ],
    [
      "invalid hash_fallback",
      { hash_on: "consumer", hash_fallback: "something that is invalid" },
      { "@entity": [conditional("hash_on")], hash_fallback: FALLBACK_AFTER_CONSUMER },
    ],
    [
      "fallback equal to hash_on",
      { hash_on: "consumer", hash_fallback: "consumer" },
      { "@entity": [conditional("hash_on")], hash_fallback: FALLBACK_AFTER_CONSUMER },
    ],
    [
      "ip after ip",
      { hash_on: "ip", hash_fallback: "ip" },
      {
        "@entity": [conditional("hash_on")],
        hash_fallback: "expected one of: none, consumer, header, cookie, path, query_arg, uri_capture",
      },
    ],
    [
      "path after path",
      { hash_on: "path", hash_fallback: "path" },
      {
        "@entity": [conditional("hash_on")],
        hash_fallback: "expected one of: none, consumer, header, cookie, query_arg, ip, uri_capture",
      },
    ],
    [
      "a fallback without hashing",
      { hash_on: "none", hash_fallback: "ip", algorithm: "round-robin" },
      { "@entity": [conditional("hash_on")], hash_fallback: "expected one of: none" },
    ],
    [
      "invalid header",
      { hash_on: "header", hash_fallback: "consumer", hash_on_header: "not a <> valid <> header name" },
      { hash_on_header: badHeader },
    ],
    [
      "invalid fallback header",
      { hash_on: "consumer", hash_fallback: "header", hash_fallback_header: "not a <> valid <> header name" },
      { hash_fallback_header: badHeader },
    ],
    [
      "the same header twice",
      {
        hash_on: "header",
        hash_fallback: "header",
        hash_on_header: "headername",
        hash_fallback_header: "headername",
      },
      { "@entity": ["values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'"] },
    ],
    [
      "cookie hashing with a fallback",
      {
        hash_on: "cookie",
        hash_on_cookie: "cookiename",
        hash_fallback: "header",
        hash_fallback_header: "Cool-Header",
      },
      { "@entity": [conditional("hash_on")], hash_fallback: "expected one of: none" },
    ],
    [
      "no header name",
      { hash_on: "header", hash_fallback: "header", hash_fallback_header: "HeaderName" },
      { "@entity": [conditional("hash_on")], hash_on_header: "required field missing" },
    ],
    [
      "no fallback header name",
      { hash_on: "consumer", hash_fallback: "header" },
      { "@entity": [conditional("hash_fallback")], hash_fallback_header: "required field missing" },
    ],
    [
      "invalid cookie",
      { hash_on: "cookie", hash_on_cookie: "not a <> valid <> cookie name" },
      { hash_on_cookie: badCookie },
    ],
    [
      "invalid cookie path",
      { hash_on: "cookie", hash_on_cookie: "hashme", hash_on_cookie_path: "not a path" },
      { hash_on_cookie_path: "should start with: /" },
    ],
    [
      "invalid cookie in the fallback",
      { hash_on: "consumer", hash_fallback: "cookie", hash_on_cookie: "not a <> valid <> cookie name" },
      { hash_on_cookie: badCookie },
    ],
    [
      "no query argument",
      { hash_on: "query_arg" },
      { "@entity": [conditional("hash_on")], hash_on_query_arg: "required field missing" },
    ],
    [
      "the same query argument twice",
      {
        hash_on: "query_arg",
        hash_on_query_arg: "a",
        hash_fallback: "query_arg",
        hash_fallback_query_arg: "a",
      },
      {
        "@entity": [
          "values of these fields must be distinct: 'hash_on_query_arg', 'hash_fallback_query_arg'",
        ],
      },
    ],
    [
      "no uri capture in the fallback",
      { hash_on: "ip", hash_fallback: "uri_capture" },
      { "@entity": [conditional("hash_fallback")], hash_fallback_uri_capture: "required field missing" },
    ],
    [
      "an empty query argument",
      { hash_on: "query_arg", hash_on_query_arg: "" },
      { hash_on_query_arg: "length must be at least 1" },
    ],
    ["a bad host header", { host_header: "a b" }, { host_header: "invalid hostname: a b" }],
    [
      "a host header with a bad port",
      { host_header: "a.test:99999" },
      { host_header: "invalid port number" },
    ],
    [
      "healthchecks out of range",
      {
        healthchecks: {
          threshold: 101,
          active: {
            timeout: -1,
            concurrency: 0,
            type: "udp",
            http_path: "nope",
            https_sni: "1.2.3.4",
            healthy: { interval: 70000, http_statuses: [200, 99], successes: 256 },
            unhealthy: { tcp_failures: 1.5 },
          },
          passive: { unhealthy: { http_statuses: "500" } },
        },
      },
      {
        healthchecks: {
          threshold: "value should be between 0 and 100",
          active: {
            timeout: "value should be between 0 and 65535",
            concurrency: "value should be between 1 and 2147483648",
            type: "expected one of: tcp, http, https, grpc, grpcs",
            http_path: "should start with: /",
            https_sni: "must not be an IP",
            healthy: {
              interval: "value should be between 0 and 65535",
              http_statuses: [null, "value should be between 100 and 999"],
              successes: "value should be between 0 and 255",
            },
            unhealthy: { tcp_failures: "expected an integer" },
          },
          passive: { unhealthy: { http_statuses: "expected an array" } },
        },
      },
    ],
    [
      "unknown healthchecks fields and bad header names",
      { healthchecks: { active: { interval: 1, headers: { "x y": ["1"] } } } },
      {
        healthchecks: {
          active: {
            interval: "unknown field",
            headers: "bad header name 'x y', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
          },
        },
      },
    ],
  ];

  for (const [label, body, fields] of cases)
    test(label, async () => {
      const reply = await post({ name: unique("invalid"), ...body });
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe(2);
      expect(reply.body.name).toBe("schema violation");
      expect(reply.body.fields).toEqual(fields);
    });

  test("the message lists every violation", async () => {
    const reply = await post({ name: "1.2.3.4", slots: 1 });
    expect(reply.body).toEqual(
      schemaViolation(
        {
          name: "Invalid name ('1.2.3.4'); no ip addresses allowed",
          slots: "value should be between 10 and 65536",
        },
        [
          "name: Invalid name ('1.2.3.4'); no ip addresses allowed",
          "slots: value should be between 10 and 65536",
        ],
      ),
    );
  });
});

describe("algorithm and hash_on shorthands (Kong's shorthand_fields)", () => {
  test("a hash_on other than none means consistent-hashing, whatever algorithm is sent", async () => {
    const reply = await post({
      name: unique("sh1"),
      algorithm: "round-robin",
      hash_on: "header",
      hash_on_header: "x-user",
    });
    expect(reply.body).toMatchObject({ algorithm: "consistent-hashing", hash_on: "header" });
  });

  test("hash_on none means round-robin", async () => {
    const reply = await post({ name: unique("sh2"), algorithm: "consistent-hashing", hash_on: "none" });
    expect(reply.body).toMatchObject({ algorithm: "round-robin", hash_on: "none" });
  });

  test("least-connections and latency drop hash_on", async () => {
    for (const algorithm of ["least-connections", "latency"]) {
      const reply = await post({ name: unique("sh3"), algorithm, hash_on: "ip" });
      expect(reply.body).toMatchObject({ algorithm, hash_on: "none", hash_fallback: "none" });
    }
  });

  test("a PATCH applies them to the fields it names only", async () => {
    const name = unique("sh4");
    await post({ name, hash_on: "header", hash_on_header: "x-user" });
    const patched = await call(tg, `/upstreams/${name}`, {
      method: "PATCH",
      body: { algorithm: "round-robin" },
    });
    expect(patched.body).toMatchObject({ algorithm: "round-robin", hash_on: "header" });
    const back = await call(tg, `/upstreams/${name}`, { method: "PATCH", body: { slots: 20 } });
    expect(back.body).toMatchObject({ algorithm: "round-robin", hash_on: "header", slots: 20 });
    const lc = await call(tg, `/upstreams/${name}`, {
      method: "PATCH",
      body: { algorithm: "least-connections" },
    });
    expect(lc.body).toMatchObject({ algorithm: "least-connections", hash_on: "none" });
  });
});

describe("PATCH and PUT /upstreams/{name or id}", () => {
  test("PATCH merges the healthchecks record key by key", async () => {
    const name = unique("merge");
    await post({ name, healthchecks: { active: { healthy: { interval: 5 } } } });
    const patched = await call(tg, `/upstreams/${name}`, {
      method: "PATCH",
      body: {
        healthchecks: { passive: { healthy: { successes: 1 }, unhealthy: { tcp_failures: 1, timeouts: 1 } } },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.healthchecks).toEqual({
      ...HEALTHCHECK_DEFAULTS,
      active: {
        ...HEALTHCHECK_DEFAULTS.active,
        healthy: { ...HEALTHCHECK_DEFAULTS.active.healthy, interval: 5 },
      },
      passive: {
        ...HEALTHCHECK_DEFAULTS.passive,
        healthy: { ...HEALTHCHECK_DEFAULTS.passive.healthy, successes: 1 },
        unhealthy: { ...HEALTHCHECK_DEFAULTS.passive.unhealthy, tcp_failures: 1, timeouts: 1 },
      },
    });
  });

  test("PUT creates by name, then replaces (unset fields back to defaults), keeping the id", async () => {
    const name = unique("put");
    const created = await call(tg, `/upstreams/${name}`, {
      method: "PUT",
      body: { slots: 100, created_at: 1461276890000 },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name, slots: 100 });
    expect(created.body.created_at).toBeLessThan(1461276890000);
    const replaced = await call(tg, `/upstreams/${created.body.id}`, {
      method: "PUT",
      body: { name: `new-${name}`, slots: 123 },
    });
    expect(replaced.body).toMatchObject({ id: created.body.id, name: `new-${name}`, slots: 123 });
  });

  test("PUT without a name and PUT to an IP address name are refused with Kong's messages", async () => {
    const missing = await call(tg, "/upstreams/00000000-0000-4000-8000-000000000001", {
      method: "PUT",
      body: {},
    });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toBe("schema violation (name: required field missing)");
    const ip = await call(tg, "/upstreams/1.2.3.4", { method: "PUT", body: {} });
    expect(ip.status).toBe(400);
    expect(ip.body).toEqual({
      code: 10,
      name: "invalid unique name",
      message: "Invalid name ('1.2.3.4'); no ip addresses allowed",
    });
  });

  test("DELETE answers 204, also for a missing upstream", async () => {
    const name = unique("del");
    await post({ name });
    expect((await call(tg, `/upstreams/${name}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(tg, `/upstreams/${name}`)).status).toBe(404);
    expect((await call(tg, `/upstreams/${name}`, { method: "DELETE" })).status).toBe(204);
  });
});
