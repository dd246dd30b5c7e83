// REST and GraphQL must agree on every rule: the same sequence of writes runs against two fresh gateways,
// one through REST and one through GraphQL, and each step must succeed or fail the same way (same entity,
// or same Kong code, name and field errors). Explicit ids keep both gateways' entities identical.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { camelKeys, gql, ROUTE_FIELDS, rest, SERVICE_FIELDS, toInput, toWireEntity } from "./support.ts";

let viaRest: TestGateway;
let viaGraphql: TestGateway;

beforeAll(async () => {
  [viaRest, viaGraphql] = await Promise.all([startTestGateway(), startTestGateway()]);
});

afterAll(() => Promise.all([viaRest.stop(), viaGraphql.stop()]));

type Entity = "service" | "route";
type Step =
  | { op: "create"; entity: Entity; body: Record<string, unknown> }
  | { op: "update" | "upsert"; entity: Entity; key: string; body: Record<string, unknown> }
  | { op: "delete"; entity: Entity; key: string };

type Outcome =
  | { ok: true; entity: Record<string, unknown> | null }
  | { ok: false; code: number | undefined; name: string | undefined; fields: unknown; message?: string };

const S1 = "11111111-1111-4111-8111-111111111111";
const S2 = "22222222-2222-4222-8222-222222222222";
const R1 = "33333333-3333-4333-8333-333333333333";
const MISSING = "99999999-9999-4999-8999-999999999999";

/** Timestamps differ between the gateways, and so do ids the store generates (PUT by name creates). */
const comparable = (entity: Record<string, unknown> | null) => {
  if (!entity) return entity;
  const { created_at: _c, updated_at: _u, id: _id, ...rest } = entity;
  return rest;
};

const collection = (entity: Entity) => (entity === "service" ? "/services" : "/routes");

async function runRest(step: Step): Promise<Outcome> {
  const path =
    step.op === "create"
      ? collection(step.entity)
      : `${collection(step.entity)}/${encodeURIComponent(step.key)}`;
  const method = { create: "POST", update: "PATCH", upsert: "PUT", delete: "DELETE" }[step.op];
  const response = await rest(viaRest, method, path, step.op === "delete" ? undefined : step.body);
  if (response.status < 300) return { ok: true, entity: comparable(response.body) };
  const body = response.body!;
  // Kong's message names fields in wire case; GraphQL names them as the client wrote them.
  return {
    ok: false,
    code: body.code as number,
    name: body.name as string,
    fields: camelKeys(body.fields),
    message: body.code === 2 ? undefined : (body.message as string),
  };
}

async function runGraphql(step: Step): Promise<Outcome> {
  const Type = step.entity === "service" ? "Service" : "Route";
  const selection = step.entity === "service" ? SERVICE_FIELDS : ROUTE_FIELDS;
  let query: string;
  const variables: Record<string, unknown> = {};
  if (step.op === "delete") {
    query = `mutation($key: String!) { result: delete${Type}(idOrName: $key) }`;
    variables.key = step.key;
  } else if (step.op === "create") {
    query = `mutation($input: ${Type}Input!) { result: add${Type}(input: $input) { ${selection} } }`;
    variables.input = toInput(step.body);
  } else {
    const inputType = step.op === "update" ? `${Type}UpdateInput` : `${Type}Input`;
    const field = step.op === "update" ? `update${Type}` : `upsert${Type}`;
    query = `mutation($key: String!, $input: ${inputType}!) { result: ${field}(idOrName: $key, input: $input) { ${selection} } }`;
    variables.key = step.key;
    variables.input = toInput(step.body);
  }
  const result = await gql<{ result: Record<string, unknown> | string | null }>(viaGraphql, query, variables);
  expect(result.status).toBeLessThan(500);
  if (result.errors) {
    expect(result.errors).toHaveLength(1);
    const { extensions, message } = result.errors[0]!;
    return {
      ok: false,
      code: extensions?.code,
      name: extensions?.name,
      fields: extensions?.fields,
      message: extensions?.code === 2 ? undefined : message,
    };
  }
  const data = result.data!.result;
  if (step.op === "delete") return { ok: true, entity: null };
  return { ok: true, entity: comparable(toWireEntity(data as Record<string, unknown>)) };
}

/** Each step: [what it checks, the step, whether it should succeed]. */
const STEPS: [string, Step, boolean][] = [
  [
    "a service from a url",
    {
      op: "create",
      entity: "service",
      body: { id: S1, name: "alpha", url: "http://alpha.internal:8080/api" },
    },
    true,
  ],
  [
    "a second service with every field",
    {
      op: "create",
      entity: "service",
      body: {
        id: S2,
        name: "beta",
        protocol: "https",
        host: "beta.internal",
        port: 8443,
        path: "/v2",
        retries: 0,
        connect_timeout: 1,
        write_timeout: 2,
        read_timeout: 2147483646,
        tags: ["b", "b", "円"],
        tls_verify: true,
        tls_verify_depth: 3,
        enabled: false,
      },
    },
    true,
  ],
  [
    "a taken name (409, code 5)",
    { op: "create", entity: "service", body: { name: "alpha", host: "x" } },
    false,
  ],
  ["a taken id (code 3)", { op: "create", entity: "service", body: { id: S1, host: "x" } }, false],
  ["no host (code 2)", { op: "create", entity: "service", body: { name: "nohost" } }, false],
  [
    "many bad fields at once",
    {
      op: "create",
      entity: "service",
      body: {
        name: "bad name",
        host: "h:80",
        port: 70000,
        retries: -1,
        connect_timeout: 0,
        path: "//x",
        tags: ["a,b"],
      },
    },
    false,
  ],
  ["an invalid url", { op: "create", entity: "service", body: { url: "invalid url" } }, false],
  ["an empty url", { op: "create", entity: "service", body: { url: "" } }, false],
  [
    "TLS fields on an http service (@entity)",
    { op: "create", entity: "service", body: { host: "h", tls_verify: true, ca_certificates: ["nope"] } },
    false,
  ],
  [
    "a bad client certificate reference",
    {
      op: "create",
      entity: "service",
      body: { host: "h", protocol: "https", client_certificate: { id: "x" } },
    },
    false,
  ],
  ["an empty name", { op: "create", entity: "service", body: { name: "", host: "h" } }, false],
  [
    "a non-ascii name is fine",
    {
      op: "create",
      entity: "service",
      body: { id: MISSING.replace(/9/g, "8"), name: "サービス", host: "h" },
    },
    true,
  ],

  [
    "PATCH: a port out of range",
    { op: "update", entity: "service", key: "alpha", body: { port: -1 } },
    false,
  ],
  [
    "PATCH: TLS fields checked on the merged entity",
    { op: "update", entity: "service", key: "alpha", body: { tls_verify: true } },
    false,
  ],
  [
    "PATCH: switching to https allows them",
    { op: "update", entity: "service", key: "alpha", body: { protocol: "https", tls_verify: true } },
    true,
  ],
  [
    "PATCH: url clears path",
    { op: "update", entity: "service", key: "alpha", body: { url: "https://alpha.internal" } },
    true,
  ],
  [
    "PATCH: null clears optional fields",
    { op: "update", entity: "service", key: "beta", body: { tags: null, path: null } },
    true,
  ],
  [
    "PATCH: null on a required field",
    { op: "update", entity: "service", key: "beta", body: { host: null } },
    false,
  ],
  [
    "PATCH: rename onto a taken name",
    { op: "update", entity: "service", key: "beta", body: { name: "alpha" } },
    false,
  ],
  [
    "PATCH: a missing service (code 6)",
    { op: "update", entity: "service", key: "ghost", body: { port: 1 } },
    false,
  ],
  [
    "PATCH: a missing id (code 6)",
    { op: "update", entity: "service", key: MISSING, body: { port: 1 } },
    false,
  ],
  [
    "PATCH: a malformed key (code 10)",
    { op: "update", entity: "service", key: "bad key", body: { port: 1 } },
    false,
  ],

  [
    "PUT: creates by name",
    { op: "upsert", entity: "service", key: "gamma", body: { host: "g", retries: 3 } },
    true,
  ],
  [
    "PUT: replaces, defaults come back, key wins",
    { op: "upsert", entity: "service", key: "gamma", body: { name: "other", host: "g2" } },
    true,
  ],
  ["PUT: invalid body", { op: "upsert", entity: "service", key: "gamma", body: { port: 65536 } }, false],
  [
    "PUT: an invalid name in the body is ignored (the key wins)",
    { op: "upsert", entity: "service", key: "gamma", body: { name: "bad name", host: "ok" } },
    true,
  ],
  [
    "PUT: by id with a taken name",
    { op: "upsert", entity: "service", key: S2, body: { name: "alpha", host: "b" } },
    false,
  ],
  ["PUT: a malformed key", { op: "upsert", entity: "service", key: "a b", body: { host: "b" } }, false],

  [
    "a route on a service by name",
    {
      op: "create",
      entity: "route",
      body: { id: R1, name: "r1", paths: ["/r1"], service: { name: "alpha" } },
    },
    true,
  ],
  [
    "a route on a service by id, every field",
    {
      op: "create",
      entity: "route",
      body: {
        name: "r2",
        id: MISSING.replace(/9/g, "7"),
        protocols: ["https"],
        methods: ["GET"],
        hosts: ["*.example.com", "a.b:8080"],
        paths: ["/x", "~/y/\\d+$"],
        headers: { "x-v": ["1", "~*^2"] },
        snis: ["x.example.com"],
        https_redirect_status_code: 308,
        regex_priority: -5,
        strip_path: false,
        path_handling: "v1",
        preserve_host: true,
        request_buffering: false,
        response_buffering: false,
        tags: ["t"],
        service: { id: S2 },
      },
    },
    true,
  ],
  ["a route with no matcher (@entity)", { op: "create", entity: "route", body: { name: "r3" } }, false],
  [
    "bad paths per index",
    { op: "create", entity: "route", body: { paths: ["/ok", "nope", "/a//b", "/%zz", "~/(unclosed"] } },
    false,
  ],
  ["a non-normalized path", { op: "create", entity: "route", body: { paths: ["/a/../b"] } }, false],
  [
    "bad hosts and methods",
    { op: "create", entity: "route", body: { hosts: ["*.a.*", "a:99999"], methods: ["get"] } },
    false,
  ],
  ["a host header matcher", { op: "create", entity: "route", body: { headers: { Host: ["x"] } } }, false],
  [
    "snis without https",
    { op: "create", entity: "route", body: { protocols: ["http"], paths: ["/s"], snis: ["a"] } },
    false,
  ],
  [
    "a bad redirect status",
    { op: "create", entity: "route", body: { paths: ["/s"], https_redirect_status_code: 300 } },
    false,
  ],
  [
    "an unknown service name (code 13)",
    { op: "create", entity: "route", body: { paths: ["/s"], service: { name: "nope" } } },
    false,
  ],
  [
    "an unknown service id (code 4)",
    { op: "create", entity: "route", body: { paths: ["/s"], service: { id: MISSING } } },
    false,
  ],
  [
    "a service reference with neither id nor name",
    { op: "create", entity: "route", body: { paths: ["/s"], service: {} } },
    false,
  ],
  [
    "PATCH route: clearing the only matcher",
    { op: "update", entity: "route", key: "r1", body: { paths: null } },
    false,
  ],
  [
    "PATCH route: move to another service",
    { op: "update", entity: "route", key: "r1", body: { service: { name: "beta" } } },
    true,
  ],
  [
    "PUT route: full replace",
    { op: "upsert", entity: "route", key: "r1", body: { methods: ["DELETE"] } },
    true,
  ],

  [
    "DELETE: a service still used by routes (code 4)",
    { op: "delete", entity: "service", key: "beta" },
    false,
  ],
  ["DELETE: a malformed key", { op: "delete", entity: "service", key: "a b" }, false],
  ["DELETE: a route", { op: "delete", entity: "route", key: "r2" }, true],
  ["DELETE: a missing route is not an error", { op: "delete", entity: "route", key: "r2" }, true],
  ["DELETE: the service, now unused", { op: "delete", entity: "service", key: "beta" }, true],
];

describe("REST and GraphQL agree, step by step", () => {
  for (const [label, step, succeeds] of STEPS)
    test(label, async () => {
      const [fromRest, fromGraphql] = await Promise.all([runRest(step), runGraphql(step)]);
      expect(fromRest.ok).toBe(succeeds);
      expect(fromGraphql).toEqual(fromRest);
    });

  test("both gateways end with the same configuration", async () => {
    for (const path of ["/services", "/routes"]) {
      const [a, b] = await Promise.all([rest(viaRest, "GET", path), rest(viaGraphql, "GET", path)]);
      const strip = (page: Record<string, unknown> | null) =>
        (page!.data as Record<string, unknown>[])
          .map((e) => comparable(e))
          .sort((x, y) => String(x!.name).localeCompare(String(y!.name)));
      expect(strip(b.body)).toEqual(strip(a.body));
    }
  });
});

describe("field errors a client can map onto its form", () => {
  test("keys are the input's camelCase fields; arrays are reported per index", async () => {
    const result = await gql(
      viaGraphql,
      'mutation { addService(input: { host: "h", connectTimeout: 0, tlsVerifyDepth: 99, tags: ["ok", "a/b"] }) { id } }',
    );
    const { extensions, message } = result.errors![0]!;
    expect(extensions).toEqual({
      code: 2,
      name: "schema violation",
      fields: {
        connectTimeout: "value should be between 1 and 2147483646",
        tlsVerifyDepth: "value should be between 0 and 64",
        tags: [
          null,
          "invalid tag 'a/b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences",
        ],
        "@entity": ["failed conditional validation given value of field 'protocol'"],
      },
    });
    expect(message).toContain("connectTimeout: value should be between 1 and 2147483646");
    expect(message).not.toContain("connect_timeout");
  });

  test("a value of the wrong GraphQL type is refused by GraphQL itself (4xx, nothing written)", async () => {
    const before = (await rest(viaGraphql, "GET", "/services")).body!.data as unknown[];
    const response = await viaGraphql.admin("/graphql", {
      method: "POST",
      body: { query: 'mutation { addService(input: { host: "h", port: "80" }) { id } }' },
    });
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as { errors: { message: string }[]; data?: unknown };
    expect(body.errors[0]!.message).toContain("Int cannot represent");
    expect(body.data).toBeUndefined();
    expect((await rest(viaGraphql, "GET", "/services")).body!.data).toEqual(before);
  });
});
