// REST and GraphQL agree on consumers, plugins and credentials: the same sequence of writes runs against two
// fresh gateways, one through REST and one through GraphQL, and each step must succeed or fail the same way
// (same entity, or same Kong code, name and field errors). Explicit ids keep both gateways' entities alike.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { camelKeys, gql, rest, toWireEntity } from "./support.ts";

let viaRest: TestGateway;
let viaGraphql: TestGateway;

const S1 = "51515151-5151-4151-8151-515151515151";
const R1 = "52525252-5252-4252-8252-525252525252";
const C1 = "c1c1c1c1-c1c1-41c1-81c1-c1c1c1c1c1c1";
const C2 = "c2c2c2c2-c2c2-42c2-82c2-c2c2c2c2c2c2";
const P1 = "a1a1a1a1-a1a1-41a1-81a1-a1a1a1a1a1a1";
const P2 = "a2a2a2a2-a2a2-42a2-82a2-a2a2a2a2a2a2";
const K1 = "b1b1b1b1-b1b1-41b1-81b1-b1b1b1b1b1b1";
const B1 = "d1d1d1d1-d1d1-41d1-81d1-d1d1d1d1d1d1";
const J1 = "e1e1e1e1-e1e1-41e1-81e1-e1e1e1e1e1e1";
const A1 = "f1f1f1f1-f1f1-41f1-81f1-f1f1f1f1f1f1";
const MISSING = "99999999-9999-4999-8999-999999999999";

beforeAll(async () => {
  [viaRest, viaGraphql] = await Promise.all([startTestGateway(), startTestGateway()]);
  // The same service and route on both, so that plugins have something to be scoped to.
  for (const gw of [viaRest, viaGraphql]) {
    expect(
      (await rest(gw, "POST", "/services", { id: S1, name: "svc", url: "http://127.0.0.1:9" })).status,
    ).toBe(201);
    expect(
      (await rest(gw, "POST", "/routes", { id: R1, name: "r", paths: ["/r"], service: { id: S1 } })).status,
    ).toBe(201);
  }
});

afterAll(() => Promise.all([viaRest.stop(), viaGraphql.stop()]));

type Entity = "consumer" | "plugin" | "keyAuth" | "basicAuth" | "jwtSecret" | "acl";

type Kind = {
  type: string;
  /** REST: the collection (consumers, plugins) or the top-level list (credentials). */
  collection: string;
  /** REST: the segment under /consumers/{c}/ (credentials only). */
  nested?: string;
  keyArg: "idOrName" | "idOrKey";
  fields: string;
};

const CREDENTIAL = "id createdAt tags consumer { id }";
const KINDS: Record<Entity, Kind> = {
  consumer: {
    type: "Consumer",
    collection: "/consumers",
    keyArg: "idOrName",
    fields: "id createdAt updatedAt username customId tags",
  },
  plugin: {
    type: "Plugin",
    collection: "/plugins",
    keyArg: "idOrName",
    fields: `id createdAt updatedAt name instanceName config protocols enabled tags service { id } route { id }
      consumer { id }`,
  },
  keyAuth: {
    type: "KeyAuth",
    collection: "/key-auths",
    nested: "key-auth",
    keyArg: "idOrKey",
    fields: `${CREDENTIAL} key ttl`,
  },
  basicAuth: {
    type: "BasicAuth",
    collection: "/basic-auths",
    nested: "basic-auth",
    keyArg: "idOrKey",
    fields: `${CREDENTIAL} username password`,
  },
  jwtSecret: {
    type: "JwtSecret",
    collection: "/jwts",
    nested: "jwt",
    keyArg: "idOrKey",
    fields: `${CREDENTIAL} key secret rsaPublicKey algorithm`,
  },
  acl: { type: "Acl", collection: "/acls", nested: "acls", keyArg: "idOrKey", fields: `${CREDENTIAL} group` },
};

type Body = Record<string, unknown>;
type Step =
  | { op: "create"; entity: Entity; consumer?: string; body: Body }
  | { op: "update"; entity: Entity; key: string; body: Body }
  | { op: "upsert"; entity: Entity; key: string; consumer?: string; body: Body }
  | { op: "delete"; entity: Entity; key: string };

type Outcome =
  | { ok: true; entity: Record<string, unknown> | null }
  | { ok: false; code: unknown; name: unknown; fields: unknown; message?: string };

/** Timestamps and generated ids differ between the gateways, and so does every password hash's salt. */
function comparable(entity: Record<string, unknown> | null) {
  if (!entity) return entity;
  const { created_at: _c, updated_at: _u, id: _id, ...rest } = entity;
  if (typeof rest.password === "string")
    rest.password = rest.password.startsWith("$argon2id$") ? "<hash>" : "CLEAR";
  return rest;
}

/**
 * A wire body as a GraphQL input: camelCase top-level fields; values (a plugin's config, refs) as written,
 * except a consumer reference by name, which GraphQL calls `username`.
 */
function toInput(body: Body): Body {
  const consumer = body.consumer as { name?: string } | null | undefined;
  if (consumer?.name !== undefined) body = { ...body, consumer: { username: consumer.name } };
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => [
      key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
      value,
    ]),
  );
}

async function runRest(step: Step): Promise<Outcome> {
  const kind = KINDS[step.entity];
  const key = "key" in step ? encodeURIComponent(step.key) : "";
  const owner = "consumer" in step && step.consumer !== undefined ? encodeURIComponent(step.consumer) : "";
  let path: string;
  if (step.op === "create") path = kind.nested ? `/consumers/${owner}/${kind.nested}` : kind.collection;
  else if (step.op === "upsert" && kind.nested) path = `/consumers/${owner}/${kind.nested}/${key}`;
  else path = `${kind.collection}/${key}`;
  const method = { create: "POST", update: "PATCH", upsert: "PUT", delete: "DELETE" }[step.op];
  const response = await rest(viaRest, method, path, step.op === "delete" ? undefined : step.body);
  if (response.status < 300) return { ok: true, entity: comparable(response.body) };
  const body = response.body!;
  // A parent named in the URL that does not hold the entity is REST's bare 404; GraphQL has no URL and
  // answers Kong's code 6 (with the argument in `fields`).
  if (response.status === 404 && body.code === undefined)
    return { ok: false, code: 6, name: "not found", fields: expect.anything(), message: expect.any(String) };
  return {
    ok: false,
    code: body.code,
    name: body.name,
    // Kong's field paths in GraphQL's camelCase, except inside a plugin's config (opaque JSON).
    fields: (() => {
      const fields = body.fields as Record<string, unknown> | undefined;
      if (!fields) return fields;
      const { config, ...others } = fields;
      const camel = camelKeys(others) as Record<string, unknown>;
      return config === undefined ? camel : { ...camel, config };
    })(),
    message: body.code === 2 ? undefined : (body.message as string),
  };
}

async function runGraphql(step: Step): Promise<Outcome> {
  const { type, keyArg, fields } = KINDS[step.entity];
  const variables: Record<string, unknown> = {};
  let query: string;
  if (step.op === "delete") {
    query = `mutation($key: String!) { result: delete${type}(${keyArg}: $key) }`;
    variables.key = step.key;
  } else {
    const args: string[] = [];
    const params: string[] = [];
    if ("consumer" in step && step.consumer !== undefined) {
      params.push("$consumer: String!");
      args.push("consumer: $consumer");
      variables.consumer = step.consumer;
    }
    if (step.op !== "create") {
      params.push("$key: String!");
      args.push(`${keyArg}: $key`);
      variables.key = step.key;
    }
    params.push(`$input: ${type}${step.op === "update" ? "UpdateInput" : "Input"}!`);
    args.push("input: $input");
    variables.input = toInput(step.body);
    const field = { create: "add", update: "update", upsert: "upsert" }[step.op] + type;
    query = `mutation(${params.join(", ")}) { result: ${field}(${args.join(", ")}) { ${fields} } }`;
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
  if (step.op === "delete") return { ok: true, entity: null };
  return { ok: true, entity: comparable(toWireEntity(result.data!.result as Record<string, unknown>)) };
}

/** Each step: [what it checks, the step, whether it should succeed]. */
const STEPS: [string, Step, boolean][] = [
  // --- consumers
  [
    "a consumer",
    {
      op: "create",
      entity: "consumer",
      body: { id: C1, username: "ann", custom_id: "ann-1", tags: ["a", "a"] },
    },
    true,
  ],
  [
    "a consumer with a custom_id only",
    { op: "create", entity: "consumer", body: { id: C2, custom_id: "solo" } },
    true,
  ],
  ["a taken username (5)", { op: "create", entity: "consumer", body: { username: "ann" } }, false],
  [
    "a taken custom_id (5)",
    { op: "create", entity: "consumer", body: { username: "x", custom_id: "solo" } },
    false,
  ],
  [
    "neither username nor custom_id (@entity)",
    { op: "create", entity: "consumer", body: { tags: ["t"] } },
    false,
  ],
  ["empty strings", { op: "create", entity: "consumer", body: { username: "", custom_id: "" } }, false],
  ["a taken id (3)", { op: "create", entity: "consumer", body: { id: C1, username: "dup-id" } }, false],
  [
    "PATCH: clear custom_id",
    { op: "update", entity: "consumer", key: "ann", body: { custom_id: null } },
    true,
  ],
  [
    "PATCH: clear the last name (@entity)",
    { op: "update", entity: "consumer", key: "ann", body: { username: null } },
    false,
  ],
  [
    "PATCH: a missing consumer (6)",
    { op: "update", entity: "consumer", key: "ghost", body: { tags: ["t"] } },
    false,
  ],
  [
    "PATCH: rename onto a taken username",
    { op: "update", entity: "consumer", key: C2, body: { username: "ann" } },
    false,
  ],
  [
    "PUT: creates by username",
    { op: "upsert", entity: "consumer", key: "ben", body: { custom_id: "ben-1" } },
    true,
  ],
  [
    "PUT: replaces, the key wins",
    { op: "upsert", entity: "consumer", key: "ben", body: { username: "other", tags: ["x"] } },
    true,
  ],
  [
    "PUT: by id onto a taken username",
    { op: "upsert", entity: "consumer", key: C2, body: { username: "ann" } },
    false,
  ],

  // --- plugins
  [
    "a plugin on a service by id, config defaults filled",
    {
      op: "create",
      entity: "plugin",
      body: {
        id: P1,
        name: "key-auth",
        instance_name: "keys",
        service: { id: S1 },
        config: { key_names: ["k"] },
      },
    },
    true,
  ],
  [
    "the same plugin in the same scope by name (5)",
    { op: "create", entity: "plugin", body: { name: "key-auth", service: { name: "svc" } } },
    false,
  ],
  ["an unknown plugin", { op: "create", entity: "plugin", body: { name: "nope" } }, false],
  ["no name", { op: "create", entity: "plugin", body: { config: {} } }, false],
  [
    "config errors under config, in the plugin's keys",
    {
      op: "create",
      entity: "plugin",
      body: { name: "key-auth", config: { hide_credentials: "yes", key_names: ["ok", "bad name"], nope: 1 } },
    },
    false,
  ],
  ["config not a record", { op: "create", entity: "plugin", body: { name: "jwt", config: "x" } }, false],
  [
    "acl: allow and deny (@entity)",
    { op: "create", entity: "plugin", body: { name: "acl", config: { allow: ["a"], deny: ["b"] } } },
    false,
  ],
  [
    "jwt: maximum_expiration with a claims list lacking exp",
    {
      op: "create",
      entity: "plugin",
      body: { name: "jwt", config: { maximum_expiration: 60, claims_to_verify: ["nbf"] } },
    },
    false,
  ],
  [
    "an acl on a route by name, every field",
    {
      op: "create",
      entity: "plugin",
      body: {
        id: P2,
        name: "acl",
        route: { name: "r" },
        config: { allow: ["gold", "gold"] },
        protocols: ["https"],
        enabled: false,
        tags: ["t"],
      },
    },
    true,
  ],
  [
    "scoped to a consumer (value must be null)",
    { op: "create", entity: "plugin", body: { name: "jwt", consumer: { id: C1 } } },
    false,
  ],
  [
    "scoped to a consumer by username",
    { op: "create", entity: "plugin", body: { name: "jwt", consumer: { name: "ann" } } },
    false,
  ],
  [
    "scoped to a missing consumer by username",
    { op: "create", entity: "plugin", body: { name: "jwt", consumer: { name: "nobody" } } },
    false,
  ],
  [
    "PATCH: scoped to a missing consumer by username (the schema is checked first)",
    { op: "update", entity: "plugin", key: "keys", body: { consumer: { name: "nobody" } } },
    false,
  ],
  [
    "a missing service id (4)",
    { op: "create", entity: "plugin", body: { name: "jwt", service: { id: MISSING } } },
    false,
  ],
  [
    "a missing route name (13)",
    { op: "create", entity: "plugin", body: { name: "jwt", route: { name: "nope" } } },
    false,
  ],
  [
    "a bad instance name",
    { op: "create", entity: "plugin", body: { name: "basic-auth", instance_name: "bad name" } },
    false,
  ],
  ["empty protocols", { op: "create", entity: "plugin", body: { name: "basic-auth", protocols: [] } }, false],
  [
    "PATCH: config merged key by key",
    { op: "update", entity: "plugin", key: "keys", body: { config: { hide_credentials: true } } },
    true,
  ],
  [
    "PATCH: a bad setting",
    { op: "update", entity: "plugin", key: "keys", body: { config: { key_in_body: 3 } } },
    false,
  ],
  [
    "PATCH: also on the route",
    { op: "update", entity: "plugin", key: "keys", body: { route: { id: R1 }, tags: ["x"] } },
    true,
  ],
  [
    "PATCH: config null: back to defaults",
    { op: "update", entity: "plugin", key: P1, body: { config: null } },
    true,
  ],
  [
    "PATCH: renaming keeps another plugin's config (unknown fields)",
    { op: "update", entity: "plugin", key: P2, body: { name: "basic-auth" } },
    false,
  ],
  [
    "PATCH: a missing plugin (6)",
    { op: "update", entity: "plugin", key: "ghost", body: { enabled: true } },
    false,
  ],
  [
    "PATCH: a malformed instance name (10)",
    { op: "update", entity: "plugin", key: "bad name", body: { enabled: true } },
    false,
  ],
  [
    "PUT: creates by instance name",
    {
      op: "upsert",
      entity: "plugin",
      key: "put-me",
      body: { name: "basic-auth", config: { hide_credentials: true } },
    },
    true,
  ],
  [
    "PUT: replaces (config back to defaults)",
    { op: "upsert", entity: "plugin", key: "put-me", body: { name: "basic-auth", instance_name: "x" } },
    true,
  ],
  ["PUT: an invalid body", { op: "upsert", entity: "plugin", key: "put-me", body: { name: "acl" } }, false],
  ["PUT: a malformed key", { op: "upsert", entity: "plugin", key: "a b", body: { name: "acl" } }, false],
  ["DELETE: a plugin", { op: "delete", entity: "plugin", key: "put-me" }, true],
  ["DELETE: again, not an error", { op: "delete", entity: "plugin", key: "put-me" }, true],

  // --- credentials
  [
    "a key",
    {
      op: "create",
      entity: "keyAuth",
      consumer: "ann",
      body: { id: K1, key: "ann-key", ttl: 60, tags: ["k"] },
    },
    true,
  ],
  ["a duplicate key (5)", { op: "create", entity: "keyAuth", consumer: C2, body: { key: "ann-key" } }, false],
  [
    "a key for a missing consumer",
    { op: "create", entity: "keyAuth", consumer: "ghost", body: { key: "g" } },
    false,
  ],
  ["a bad ttl", { op: "create", entity: "keyAuth", consumer: "ann", body: { ttl: -1 } }, false],
  ["an empty key", { op: "create", entity: "keyAuth", consumer: "ann", body: { key: "" } }, false],
  [
    "PATCH a key: clear the ttl",
    { op: "update", entity: "keyAuth", key: "ann-key", body: { ttl: null } },
    true,
  ],
  ["PATCH a missing key (6)", { op: "update", entity: "keyAuth", key: "nokey", body: { ttl: 1 } }, false],
  [
    "PUT a key of another consumer",
    { op: "upsert", entity: "keyAuth", consumer: C2, key: "ann-key", body: {} },
    false,
  ],
  [
    "PUT a new key by key",
    { op: "upsert", entity: "keyAuth", consumer: "ann", key: "ann-key-2", body: { ttl: 5 } },
    true,
  ],
  [
    "PUT a key by id",
    { op: "upsert", entity: "keyAuth", consumer: "ann", key: K1, body: { key: "ann-key-1" } },
    true,
  ],
  [
    "a basic-auth user (hashed)",
    {
      op: "create",
      entity: "basicAuth",
      consumer: "ann",
      body: { id: B1, username: "ann-login", password: "pw" },
    },
    true,
  ],
  [
    "a taken basic-auth username (5)",
    { op: "create", entity: "basicAuth", consumer: C2, body: { username: "ann-login", password: "x" } },
    false,
  ],
  ["no password", { op: "create", entity: "basicAuth", consumer: "ann", body: { username: "u2" } }, false],
  [
    "PATCH: a new password is hashed",
    { op: "update", entity: "basicAuth", key: "ann-login", body: { password: "pw2" } },
    true,
  ],
  [
    "PATCH: other fields keep the hash",
    { op: "update", entity: "basicAuth", key: B1, body: { tags: ["b"] } },
    true,
  ],
  [
    "a JWT secret",
    { op: "create", entity: "jwtSecret", consumer: "ann", body: { id: J1, key: "ann-iss", secret: "s" } },
    true,
  ],
  [
    "RS256 without a public key",
    { op: "create", entity: "jwtSecret", consumer: "ann", body: { key: "rs", algorithm: "RS256" } },
    false,
  ],
  [
    "RS256 with a bad public key",
    {
      op: "create",
      entity: "jwtSecret",
      consumer: "ann",
      body: { key: "rs", algorithm: "RS256", rsa_public_key: "-----BEGIN PUBLIC KEY-----" },
    },
    false,
  ],
  [
    "a duplicate JWT key (5)",
    { op: "create", entity: "jwtSecret", consumer: C2, body: { key: "ann-iss", secret: "t" } },
    false,
  ],
  [
    "PATCH: another algorithm",
    { op: "update", entity: "jwtSecret", key: "ann-iss", body: { algorithm: "HS512" } },
    true,
  ],
  [
    "PATCH: to RS256 without a key",
    { op: "update", entity: "jwtSecret", key: "ann-iss", body: { algorithm: "RS256" } },
    false,
  ],
  ["an ACL group", { op: "create", entity: "acl", consumer: "ann", body: { id: A1, group: "gold" } }, true],
  [
    "the same group twice (5)",
    { op: "create", entity: "acl", consumer: "ann", body: { group: "gold" } },
    false,
  ],
  [
    "the same group for another consumer",
    { op: "create", entity: "acl", consumer: C2, body: { group: "gold" } },
    true,
  ],
  ["no group", { op: "create", entity: "acl", consumer: "ann", body: { tags: ["t"] } }, false],
  ["PATCH: an empty group", { op: "update", entity: "acl", key: A1, body: { group: "" } }, false],
  ["PATCH: another group", { op: "update", entity: "acl", key: A1, body: { group: "silver" } }, true],
  ["DELETE: a key", { op: "delete", entity: "keyAuth", key: "ann-key-2" }, true],
  ["DELETE: a basic-auth user", { op: "delete", entity: "basicAuth", key: "ann-login" }, true],
  ["DELETE: a missing JWT secret", { op: "delete", entity: "jwtSecret", key: "no-such-iss" }, true],
  ["DELETE: a consumer with its credentials", { op: "delete", entity: "consumer", key: "ann" }, true],
];

describe("REST and GraphQL agree on consumers, plugins and credentials, step by step", () => {
  for (const [label, step, succeeds] of STEPS)
    test(label, async () => {
      const [fromRest, fromGraphql] = await Promise.all([runRest(step), runGraphql(step)]);
      expect(fromRest.ok).toBe(succeeds);
      expect(fromGraphql).toEqual(fromRest);
    });

  test("both gateways end with the same configuration", async () => {
    let total = 0;
    for (const path of ["/consumers", "/plugins", "/key-auths", "/basic-auths", "/jwts", "/acls"]) {
      const [a, b] = await Promise.all([rest(viaRest, "GET", path), rest(viaGraphql, "GET", path)]);
      const strip = (page: Record<string, unknown> | null) =>
        (page!.data as Record<string, unknown>[]).map((e) => JSON.stringify(comparable(e))).sort();
      expect({ path, data: strip(b.body) }).toEqual({ path, data: strip(a.body) });
      total += strip(a.body).length;
    }
    // Left: consumers "solo" and "ben", plugins "keys" and the acl, and "solo"'s acl.
    expect(total).toBe(5);
  });
});
