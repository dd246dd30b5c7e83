// Schema violations per field with Kong's exact bodies, invalid URL keys (code 10), and the guarantee that
// a refused write changes nothing: no row, no config version bump, no change event.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PROTOCOLS } from "../../src/schemas/common.ts";
import type { ChangeEvent } from "../../src/store/contract.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { call, createRoute, createService, invalidUniqueName, schemaViolation } from "./helpers.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

// Kong's message for an unknown protocol lists Kong's protocols (KONG-REFERENCE §1); those Portico does not
// proxy are refused with its own.
const PROTOCOL_ERROR = "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp";
const UNSUPPORTED = (p: string) =>
  `protocol '${p}' is not supported: expected one of: ${PROTOCOLS.join(", ")}`;
const pathChars = (p: string) =>
  `invalid path: '${p}' (characters outside of the reserved list of RFC 3986 found)`;
const tagError = (t: string) =>
  `invalid tag '${t}': expected printable ascii (except \`,\` and \`/\`) or valid utf-8 sequences`;

/** [label, body, fields, message parts in Kong's order] */
type Case = [string, Record<string, unknown>, Record<string, unknown>, string[]];

const serviceCases: Case[] = [
  ["missing host", {}, { host: "required field missing" }, ["host: required field missing"]],
  ["empty host", { host: "" }, { host: "length must be at least 1" }, ["host: length must be at least 1"]],
  ["host not a string", { host: 5 }, { host: "expected a string" }, ["host: expected a string"]],
  [
    "host with port",
    { host: "a.example:80" },
    { host: "must not have a port" },
    ["host: must not have a port"],
  ],
  [
    "bad host",
    { host: "-a.example" },
    { host: "invalid value: -a.example" },
    ["host: invalid value: -a.example"],
  ],
  [
    "null on required fields",
    { host: null, protocol: null, port: null, enabled: null },
    {
      host: "required field missing",
      protocol: "required field missing",
      port: "required field missing",
      enabled: "required field missing",
    },
    [
      "enabled: required field missing",
      "host: required field missing",
      "port: required field missing",
      "protocol: required field missing",
    ],
  ],
  [
    "port as string",
    { host: "a", port: "80" },
    { port: "expected an integer" },
    ["port: expected an integer"],
  ],
  ["port float", { host: "a", port: 80.5 }, { port: "expected an integer" }, ["port: expected an integer"]],
  [
    "port too big",
    { host: "a", port: 65536 },
    { port: "value should be between 0 and 65535" },
    ["port: value should be between 0 and 65535"],
  ],
  [
    "port negative",
    { host: "a", port: -1 },
    { port: "value should be between 0 and 65535" },
    ["port: value should be between 0 and 65535"],
  ],
  [
    "retries too big",
    { host: "a", retries: 32768 },
    { retries: "value should be between 0 and 32767" },
    ["retries: value should be between 0 and 32767"],
  ],
  ["protocol", { host: "a", protocol: "ftp" }, { protocol: PROTOCOL_ERROR }, [`protocol: ${PROTOCOL_ERROR}`]],
  [
    "protocol Kong knows, Portico does not proxy",
    { host: "a", protocol: "grpc" },
    { protocol: UNSUPPORTED("grpc") },
    [`protocol: ${UNSUPPORTED("grpc")}`],
  ],
  [
    "timeout 0",
    { host: "a", connect_timeout: 0 },
    { connect_timeout: "value should be between 1 and 2147483646" },
    ["connect_timeout: value should be between 1 and 2147483646"],
  ],
  [
    "timeout too big",
    { host: "a", read_timeout: 2147483647 },
    { read_timeout: "value should be between 1 and 2147483646" },
    ["read_timeout: value should be between 1 and 2147483646"],
  ],
  [
    "timeout not integer",
    { host: "a", write_timeout: "1000" },
    { write_timeout: "expected an integer" },
    ["write_timeout: expected an integer"],
  ],
  [
    "path relative",
    { host: "a", path: "x" },
    { path: "should start with: /" },
    ["path: should start with: /"],
  ],
  [
    "path empty",
    { host: "a", path: "" },
    { path: "length must be at least 1" },
    ["path: length must be at least 1"],
  ],
  [
    "path empty segment",
    { host: "a", path: "/a//b" },
    { path: "must not have empty segments" },
    ["path: must not have empty segments"],
  ],
  [
    "path bad chars",
    { host: "a", path: "/a b" },
    { path: pathChars("/a b") },
    [`path: ${pathChars("/a b")}`],
  ],
  [
    "path bad escape",
    { host: "a", path: "/a%zz" },
    { path: "invalid url-encoded value: '%zz'" },
    ["path: invalid url-encoded value: '%zz'"],
  ],
  [
    "enabled string",
    { host: "a", enabled: "true" },
    { enabled: "expected a boolean" },
    ["enabled: expected a boolean"],
  ],
  ["tags not a set", { host: "a", tags: "a" }, { tags: "expected a set" }, ["tags: expected a set"]],
  [
    "tag with comma",
    { host: "a", tags: ["ok", "a,b"] },
    { tags: [null, tagError("a,b")] },
    [`tags.2: ${tagError("a,b")}`],
  ],
  ["name not a string", { host: "a", name: 5 }, { name: "expected a string" }, ["name: expected a string"]],
  ["unknown field", { host: "a", foo: 1 }, { foo: "unknown field" }, ["foo: unknown field"]],
  ["id not a uuid", { host: "a", id: "x" }, { id: "expected a valid UUID" }, ["id: expected a valid UUID"]],
  [
    "tls field on http",
    { host: "a", tls_verify: true },
    {
      tls_verify: "value must be null",
      "@entity": ["failed conditional validation given value of field 'protocol'"],
    },
    ["failed conditional validation given value of field 'protocol'", "tls_verify: value must be null"],
  ],
  [
    "bad tls fields on https",
    { host: "a", protocol: "https", tls_verify_depth: 65, ca_certificates: ["x"], client_certificate: "x" },
    {
      client_certificate: "expected a record",
      tls_verify_depth: "value should be between 0 and 64",
      ca_certificates: ["expected a valid UUID"],
    },
    [
      "ca_certificates.1: expected a valid UUID",
      "client_certificate: expected a record",
      "tls_verify_depth: value should be between 0 and 64",
    ],
  ],
  [
    "many at once",
    { name: "a b", host: "x:80", port: "80", retries: 1.5, foo: 1, protocol: "ftp" },
    {
      name: "invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~",
      retries: "expected an integer",
      protocol: PROTOCOL_ERROR,
      host: "must not have a port",
      port: "expected an integer",
      foo: "unknown field",
    },
    [
      "foo: unknown field",
      "host: must not have a port",
      "name: invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~",
      "port: expected an integer",
      `protocol: ${PROTOCOL_ERROR}`,
      "retries: expected an integer",
    ],
  ],
];

// The regex error text is JavaScriptCore's (Bun's engine): Kong shows PCRE's here.
const regexError = "invalid regex: '/(' (Invalid regular expression: missing ))";
const HTTPS_MATCHER =
  "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'";
const HTTP_MATCHER = "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'";

const routeCases: Case[] = [
  ["no matcher", {}, { "@entity": [HTTPS_MATCHER] }, [HTTPS_MATCHER]],
  ["no matcher, http only", { protocols: ["http"] }, { "@entity": [HTTP_MATCHER] }, [HTTP_MATCHER]],
  ["empty paths only", { paths: [] }, { "@entity": [HTTPS_MATCHER] }, [HTTPS_MATCHER]],
  [
    "snis on http",
    { protocols: ["http"], snis: ["a.example"], paths: ["/x"] },
    { snis: "'snis' can only be set when 'protocols' is 'grpcs', 'tls', 'https' or 'tls_passthrough'" },
    ["snis: 'snis' can only be set when 'protocols' is 'grpcs', 'tls', 'https' or 'tls_passthrough'"],
  ],
  [
    "lower-case method",
    { paths: ["/a"], methods: ["get"] },
    { methods: ["invalid value: get"] },
    ["methods.1: invalid value: get"],
  ],
  [
    "bad hosts",
    { hosts: ["*.*.example", "a.*.example", "a.example:99999", "bad host", "ok.example:8080"] },
    {
      hosts: [
        "invalid wildcard: must have at most one wildcard",
        "invalid wildcard: must be placed at leftmost or rightmost label",
        "invalid port number: 99999",
        "invalid value: bad host",
      ],
    },
    [
      "hosts.1: invalid wildcard: must have at most one wildcard",
      "hosts.2: invalid wildcard: must be placed at leftmost or rightmost label",
      "hosts.3: invalid port number: 99999",
      "hosts.4: invalid value: bad host",
    ],
  ],
  [
    "bad paths",
    { paths: ["foo", "/a//b", "/a/../b", "~/(", "/%zz", "/a b", "~"] },
    {
      paths: [
        "should start with: /",
        "must not have empty segments",
        "non-normalized path, consider use '/b' instead",
        regexError,
        "invalid url-encoded value: '%zz'",
        pathChars("/a b"),
        "length must be at least 1",
      ],
    },
    [
      "paths.1: should start with: /",
      "paths.2: must not have empty segments",
      "paths.3: non-normalized path, consider use '/b' instead",
      `paths.4: ${regexError}`,
      "paths.5: invalid url-encoded value: '%zz'",
      `paths.6: ${pathChars("/a b")}`,
      "paths.7: length must be at least 1",
    ],
  ],
  ["paths not an array", { paths: "/a" }, { paths: "expected an array" }, ["paths: expected an array"]],
  [
    "host header",
    { paths: ["/a"], headers: { Host: ["x"] } },
    { headers: "cannot contain 'host' header" },
    ["headers: cannot contain 'host' header"],
  ],
  [
    "empty header values",
    { paths: ["/a"], headers: { "x-a": [] } },
    { headers: { "x-a": "length must be at least 1" } },
    ["headers.x-a: length must be at least 1"],
  ],
  [
    "header value not an array",
    { paths: ["/a"], headers: { "x-a": "v" } },
    { headers: { "x-a": "expected an array" } },
    ["headers.x-a: expected an array"],
  ],
  [
    "scalar fields",
    {
      paths: ["/a"],
      https_redirect_status_code: 200,
      regex_priority: 1.5,
      strip_path: "yes",
      path_handling: "v2",
      preserve_host: null,
      request_buffering: 1,
      response_buffering: null,
    },
    {
      https_redirect_status_code: "expected one of: 426, 301, 302, 307, 308",
      regex_priority: "expected an integer",
      strip_path: "expected a boolean",
      path_handling: "expected one of: v0, v1",
      preserve_host: "required field missing",
      request_buffering: "expected a boolean",
      response_buffering: "required field missing",
    },
    [
      "https_redirect_status_code: expected one of: 426, 301, 302, 307, 308",
      "path_handling: expected one of: v0, v1",
      "preserve_host: required field missing",
      "regex_priority: expected an integer",
      "request_buffering: expected a boolean",
      "response_buffering: required field missing",
      "strip_path: expected a boolean",
    ],
  ],
  [
    "regex_priority range",
    { paths: ["/a"], regex_priority: 2147483648 },
    { regex_priority: "value should be between -2147483648 and 2147483647" },
    ["regex_priority: value should be between -2147483648 and 2147483647"],
  ],
  [
    "empty protocols",
    { paths: ["/a"], protocols: [] },
    { protocols: "length must be at least 1" },
    ["protocols: length must be at least 1"],
  ],
  [
    "unknown protocol",
    { paths: ["/a"], protocols: ["ftp", "http"] },
    { protocols: [PROTOCOL_ERROR] },
    [`protocols.1: ${PROTOCOL_ERROR}`],
  ],
  [
    "a stream protocol",
    { paths: ["/a"], protocols: ["http", "tcp"] },
    { protocols: [null, UNSUPPORTED("tcp")] },
    [`protocols.2: ${UNSUPPORTED("tcp")}`],
  ],
  [
    "protocols not a set",
    { paths: ["/a"], protocols: "http" },
    { protocols: "expected a set" },
    ["protocols: expected a set"],
  ],
  [
    "empty name",
    { paths: ["/a"], name: "" },
    { name: "length must be at least 1" },
    ["name: length must be at least 1"],
  ],
  ["unknown field", { paths: ["/a"], url: "http://x" }, { url: "unknown field" }, ["url: unknown field"]],
];

describe("service schema violations", () => {
  for (const [label, body, fields, parts] of serviceCases)
    test(label, async () => {
      const res = await call(tg, "/services", { method: "POST", body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(schemaViolation(fields, parts));
    });

  test("boundaries that are valid", async () => {
    const created = await call(tg, "/services", {
      method: "POST",
      body: { host: "a", port: 0, retries: 32767, connect_timeout: 2147483646, read_timeout: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      port: 0,
      retries: 32767,
      connect_timeout: 2147483646,
      read_timeout: 1,
    });
  });
});

describe("route schema violations", () => {
  for (const [label, body, fields, parts] of routeCases)
    test(label, async () => {
      const res = await call(tg, "/routes", { method: "POST", body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(schemaViolation(fields, parts));
    });

  test("an https route may match on snis alone", async () => {
    const res = await call(tg, "/routes", {
      method: "POST",
      body: { protocols: ["https"], snis: ["s.example"] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ protocols: ["https"], snis: ["s.example"], paths: null });
  });
});

describe("invalid keys in the URL are code 10 for every method", () => {
  const keys: [string, string][] = [
    ["foo%20bar", "foo bar"],
    ["a%2Fb", "a/b"],
    ["%ZZ", "%ZZ"],
    ["a%00b", "a\u0000b"],
    ["x';--", "x';--"],
  ];
  for (const entity of ["services", "routes"])
    for (const [raw, decoded] of keys)
      test(`/${entity}/${raw}`, async () => {
        for (const method of ["GET", "PATCH", "PUT", "DELETE"] as const) {
          const body = method === "PATCH" || method === "PUT" ? { host: "a", paths: ["/a"] } : undefined;
          const res = await call(tg, `/${entity}/${raw}`, { method, body });
          expect({ method, status: res.status, body: res.body }).toEqual({
            method,
            status: 400,
            body: invalidUniqueName(decoded),
          });
        }
      });
});

describe("a refused write changes nothing", () => {
  async function snapshot() {
    return {
      version: await tg.gateway.store.configVersion(),
      services: (await call(tg, "/services?size=1000")).body,
      routes: (await call(tg, "/routes?size=1000")).body,
    };
  }

  test("failed PATCH, PUT, POST and DELETE leave rows, version and events untouched", async () => {
    const svc = await createService(tg, { name: "stable", host: "a.example", tags: ["t"], path: "/p" });
    const other = await createService(tg, { name: "stable-other", host: "b.example" });
    const rt = await createRoute(tg, { name: "stable-route", paths: ["/s"], service: { id: svc.id } });
    const events: ChangeEvent[] = [];
    const unsubscribe = tg.gateway.store.subscribe((e) => events.push(e));
    const before = await snapshot();

    const attempts: [string, string, unknown, number][] = [
      ["PATCH", "/services/stable", { port: 70000, host: "z.example" }, 400],
      ["PATCH", "/services/stable", { name: "stable-other", retries: 1 }, 409],
      ["PATCH", "/services/stable", { url: "invalid url" }, 400],
      ["PATCH", "/services/stable", { bogus: true, port: 81 }, 400],
      ["PUT", "/services/stable", { port: 81 }, 400],
      ["PUT", `/services/${other.id}`, { host: "c.example", name: "stable" }, 409],
      ["PUT", "/services/stable", { host: "c.example", tags: [""] }, 400],
      ["POST", "/services", { name: "stable", host: "c.example" }, 409],
      ["POST", "/services", { id: svc.id, host: "c.example" }, 400],
      ["DELETE", "/services/stable", undefined, 400],
      ["PATCH", "/routes/stable-route", { paths: ["nope"], methods: ["GET"] }, 400],
      ["PATCH", "/routes/stable-route", { service: { name: "ghost" } }, 400],
      ["PATCH", "/routes/stable-route", { service: { id: "00000000-0000-4000-8000-000000000000" } }, 400],
      ["PUT", "/routes/stable-route", { hosts: ["a.example"], service: { name: "ghost" } }, 400],
      ["PUT", "/routes/stable-route", {}, 400],
      ["PATCH", "/routes/stable-route/service", { port: "x" }, 400],
      ["PUT", "/routes/stable-route/service", { host: "x.example", name: "stable-other" }, 409],
      ["PATCH", "/services/stable/routes/stable-route", { strip_path: "no" }, 400],
    ];
    for (const [method, path, body, status] of attempts) {
      const res = await call(tg, path, { method, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status });
    }
    expect(await snapshot()).toEqual(before);
    expect(events).toEqual([]);
    unsubscribe();
    expect((await call(tg, "/routes/stable-route")).body).toEqual(rt);
  });
});
