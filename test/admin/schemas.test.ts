// Black-box: Kong's schema endpoints, which Kong Manager builds its forms from — GET /schemas/{entity},
// GET /schemas/plugins/{name}, POST /schemas/{entity}/validate, POST /schemas/plugins/validate.
//
// The expected bodies are Kong's own renderings, written here from Kong 3.x's definitions
// (kong/db/schema/entities/*.lua, typedefs.lua, kong/plugins/*/daos.lua and schema.lua, rendered by
// kong/api/api_helpers.lua's schema_to_jsonable: functions dropped, `schema` of foreign fields stripped; the
// `description` texts are left out, Portico renders none). Portico's differences are then applied one
// by one, each with its reason, so every deviation from Kong is spelled out and reviewed here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ENTITY_NAMES } from "../../src/store/entities/index.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { TestCa } from "../support/certs.ts";
import { call, createService } from "./helpers.ts";

type Attributes = Record<string, unknown>;
type Fields = Record<string, Attributes>[];
type Schema = { fields: Fields; entity_checks: unknown[] };

// --- Kong's renderings ---------------------------------------------------------------------------

const KONG_PROTOCOLS = ["grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"];
const KONG_HTTP_PROTOCOLS = ["grpc", "grpcs", "http", "https"];
const id = { type: "string", uuid: true, auto: true };
const timestamp = { type: "integer", timestamp: true, auto: true };
const kongTags = { type: "set", elements: { type: "string", required: true } };
const timeout = { type: "integer", between: [1, 2147483646], default: 60000 };
const ownerConsumer = { type: "foreign", reference: "consumers", required: true, on_delete: "cascade" };
const sourcesOrDestinations = {
  type: "set",
  elements: {
    type: "record",
    fields: [{ ip: { type: "string" } }, { port: { type: "integer", between: [0, 65535] } }],
    entity_checks: [{ at_least_one_of: ["ip", "port"] }],
  },
};
const emptySegments = [{ pattern: "//", err: "must not have empty segments" }];
const tlsOnly = (field: string, protocols: string[]) => ({
  conditional: {
    if_field: "protocol",
    if_match: { not_one_of: protocols },
    then_field: field,
    then_match: { eq: null },
  },
});
const TLS_FIELDS = ["client_certificate", "tls_verify", "tls_verify_depth", "ca_certificates"];

const KONG_SERVICES: Schema = {
  fields: [
    { id },
    { created_at: timestamp },
    { updated_at: timestamp },
    { name: { type: "string", unique: true } },
    { retries: { type: "integer", default: 5, between: [0, 32767] } },
    { protocol: { type: "string", one_of: KONG_PROTOCOLS, required: true, default: "http" } },
    { host: { type: "string", required: true } },
    { port: { type: "integer", between: [0, 65535], required: true, default: 80 } },
    { path: { type: "string", starts_with: "/", match_none: emptySegments } },
    { connect_timeout: timeout },
    { write_timeout: timeout },
    { read_timeout: timeout },
    { tags: kongTags },
    { client_certificate: { type: "foreign", reference: "certificates" } },
    { tls_verify: { type: "boolean" } },
    { tls_verify_depth: { type: "integer", default: null, between: [0, 64] } },
    { ca_certificates: { type: "array", elements: { type: "string", uuid: true } } },
    { enabled: { type: "boolean", required: true, default: true } },
  ],
  entity_checks: [
    {
      conditional: {
        if_field: "protocol",
        if_match: { one_of: ["tcp", "tls", "udp", "grpc", "grpcs"] },
        then_field: "path",
        then_match: { eq: null },
      },
    },
    ...TLS_FIELDS.map((field) => tlsOnly(field, ["https", "tls"])),
  ],
};

const KONG_ROUTES: Schema = {
  fields: [
    { id },
    { created_at: timestamp },
    { updated_at: timestamp },
    { name: { type: "string", unique: true } },
    {
      protocols: {
        type: "set",
        len_min: 1,
        required: true,
        elements: { type: "string", one_of: KONG_PROTOCOLS },
        mutually_exclusive_subsets: [
          ["http", "https"],
          ["tcp", "tls", "udp"],
          ["tls_passthrough"],
          ["grpc", "grpcs"],
        ],
        default: ["http", "https"],
      },
    },
    {
      https_redirect_status_code: {
        type: "integer",
        one_of: [426, 301, 302, 307, 308],
        default: 426,
        required: true,
      },
    },
    { strip_path: { type: "boolean", required: true, default: true } },
    { preserve_host: { type: "boolean", required: true, default: false } },
    { request_buffering: { type: "boolean", required: true, default: true } },
    { response_buffering: { type: "boolean", required: true, default: true } },
    { tags: kongTags },
    { service: { type: "foreign", reference: "services" } },
    { snis: { type: "set", elements: { type: "string" } } },
    { sources: sourcesOrDestinations },
    { destinations: sourcesOrDestinations },
    { methods: { type: "set", elements: { type: "string", match: "^%u+$" } } },
    {
      hosts: {
        type: "array",
        elements: {
          type: "string",
          match_all: [
            { pattern: "^[^*]*%*?[^*]*$", err: "invalid wildcard: must have at most one wildcard" },
          ],
          match_any: {
            patterns: ["^%*%.", "%.%*$", "^[^*]*$"],
            err: "invalid wildcard: must be placed at leftmost or rightmost label",
          },
        },
      },
    },
    {
      paths: {
        type: "array",
        elements: {
          type: "string",
          match_any: { patterns: ["^/", "^~/"], err: "should start with: / (fixed path) or ~/ (regex path)" },
          match_none: emptySegments,
        },
      },
    },
    {
      headers: {
        type: "map",
        keys: {
          type: "string",
          match_none: [
            {
              pattern: "^[Hh][Oo][Ss][Tt]$",
              err: "cannot contain 'host' header, which must be specified in the 'hosts' attribute",
            },
          ],
        },
        values: { type: "array", elements: { type: "string" } },
      },
    },
    { regex_priority: { type: "integer", default: 0 } },
    { path_handling: { type: "string", default: "v0", one_of: ["v0", "v1"] } },
  ],
  entity_checks: [
    {
      conditional: {
        if_field: "protocols",
        if_match: { elements: { type: "string", not_one_of: ["grpcs", "https", "tls", "tls_passthrough"] } },
        then_field: "snis",
        then_match: { len_eq: 0 },
        then_err: "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
      },
    },
    { custom_entity_check: { field_sources: ["path_handling"] } },
    {
      custom_entity_check: {
        field_sources: [
          "id",
          "protocols",
          "snis",
          "sources",
          "destinations",
          "methods",
          "hosts",
          "paths",
          "headers",
          "expression",
          "regex_priority",
          "priority",
        ],
        run_with_missing_fields: true,
      },
    },
  ],
};

const KONG_CONSUMERS: Schema = {
  fields: [
    { id },
    { created_at: timestamp },
    { updated_at: timestamp },
    { username: { type: "string", unique: true } },
    { custom_id: { type: "string", unique: true } },
    { tags: kongTags },
  ],
  entity_checks: [{ at_least_one_of: ["custom_id", "username"] }],
};

const pluginScope = (reference: string) => ({
  type: "foreign",
  reference,
  default: null,
  on_delete: "cascade",
});

const KONG_PLUGINS: Schema = {
  fields: [
    { id },
    { name: { type: "string", required: true } },
    { instance_name: { type: "string", unique: true } },
    { created_at: timestamp },
    { updated_at: timestamp },
    { route: pluginScope("routes") },
    { service: pluginScope("services") },
    { consumer: pluginScope("consumers") },
    { config: { type: "record", abstract: true } },
    {
      protocols: {
        type: "set",
        required: true,
        default: KONG_HTTP_PROTOCOLS,
        elements: { type: "string", one_of: KONG_PROTOCOLS },
      },
    },
    { enabled: { type: "boolean", required: true, default: true } },
    { tags: kongTags },
  ],
  entity_checks: [],
};

const KONG_KEYAUTH_CREDENTIALS: Schema = {
  fields: [
    { id },
    { created_at: timestamp },
    { consumer: ownerConsumer },
    { key: { type: "string", required: false, unique: true, auto: true } },
    { tags: kongTags },
  ],
  entity_checks: [],
};

const KONG_BASICAUTH_CREDENTIALS: Schema = {
  fields: [
    { id },
    { created_at: timestamp },
    { consumer: ownerConsumer },
    { username: { type: "string", required: true, unique: true } },
    { password: { type: "string", required: true, encrypted: true } },
    { tags: kongTags },
  ],
  entity_checks: [],
};

const KONG_JWT_ALGORITHMS = [
  ...["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384"],
  ...["ES512", "PS256", "PS384", "PS512", "EdDSA"],
];

const KONG_JWT_SECRETS: Schema = {
  fields: [
    { id },
    { created_at: timestamp },
    { consumer: ownerConsumer },
    { key: { type: "string", required: false, unique: true, auto: true } },
    { secret: { type: "string", auto: true } },
    { rsa_public_key: { type: "string" } },
    { algorithm: { type: "string", default: "HS256", one_of: KONG_JWT_ALGORITHMS } },
    { tags: kongTags },
  ],
  entity_checks: [
    {
      conditional: {
        if_field: "algorithm",
        if_match: {
          match_any: {
            patterns: ["^RS256$", "^RS384$", "^RS512$", "^PS256$", "^PS384$", "^PS512$", "^EdDSA$"],
          },
        },
        then_field: "rsa_public_key",
        then_match: { required: true },
      },
    },
  ],
};

const KONG_ACLS: Schema = {
  fields: [
    { id },
    { created_at: timestamp },
    { consumer: ownerConsumer },
    { group: { type: "string", required: true } },
    { tags: kongTags },
  ],
  entity_checks: [],
};

const msTimestamp = { type: "number", timestamp: true, auto: true };

const KONG_TARGETS: Schema = {
  fields: [
    { id },
    { created_at: msTimestamp },
    { updated_at: msTimestamp },
    { upstream: { type: "foreign", reference: "upstreams", required: true, on_delete: "cascade" } },
    { target: { type: "string", required: true } },
    { weight: { type: "integer", default: 100, between: [0, 65535] } },
    { tags: kongTags },
  ],
  entity_checks: [],
};

/** The fields every bundled Kong plugin declares before its config (typedefs.no_consumer, protocols_http). */
const KONG_PLUGIN_HEAD: Fields = [
  { consumer: { type: "foreign", reference: "consumers", eq: null } },
  {
    protocols: {
      type: "set",
      required: true,
      default: KONG_HTTP_PROTOCOLS,
      elements: { type: "string", one_of: KONG_HTTP_PROTOCOLS },
    },
  },
];
const bool = (value: boolean) => ({ type: "boolean", required: true, default: value });
const kongPlugin = (config: Fields, entity_checks: unknown[] = []): Schema => ({
  fields: [...KONG_PLUGIN_HEAD, { config: { type: "record", required: true, fields: config } }],
  entity_checks,
});

const KONG_KEY_AUTH = kongPlugin([
  { key_names: { type: "array", required: true, elements: { type: "string" }, default: ["apikey"] } },
  { hide_credentials: bool(false) },
  { anonymous: { type: "string" } },
  { key_in_header: bool(true) },
  { key_in_query: bool(true) },
  { key_in_body: bool(false) },
  { run_on_preflight: bool(true) },
  { realm: { type: "string", required: false } },
]);

const KONG_BASIC_AUTH = kongPlugin([
  { anonymous: { type: "string" } },
  { hide_credentials: bool(false) },
  { realm: { type: "string", required: true, default: "service" } },
]);

const KONG_ACL = kongPlugin(
  [
    { allow: { type: "array", elements: { type: "string" } } },
    { deny: { type: "array", elements: { type: "string" } } },
    { hide_groups_header: bool(false) },
    { always_use_authenticated_groups: bool(false) },
  ],
  [{ only_one_of: ["config.allow", "config.deny"] }, { at_least_one_of: ["config.allow", "config.deny"] }],
);

const KONG_JWT = kongPlugin(
  [
    { uri_param_names: { type: "set", elements: { type: "string" }, default: ["jwt"] } },
    { cookie_names: { type: "set", elements: { type: "string" }, default: [] } },
    { key_claim_name: { type: "string", default: "iss" } },
    { secret_is_base64: bool(false) },
    { claims_to_verify: { type: "set", elements: { type: "string", one_of: ["exp", "nbf"] } } },
    { anonymous: { type: "string" } },
    { run_on_preflight: bool(true) },
    { maximum_expiration: { type: "number", default: 0, between: [0, 31536000] } },
    { header_names: { type: "set", elements: { type: "string" }, default: ["authorization"] } },
    { realm: { type: "string", required: false } },
  ],
  [
    {
      conditional: {
        if_field: "config.maximum_expiration",
        if_match: { gt: 0 },
        then_field: "config.claims_to_verify",
        then_match: { contains: "exp" },
      },
    },
  ],
);

// --- Portico's differences -----------------------------------------------------------------------

/** Portico proxies http and https only; Kong's other protocols are refused, so they are not offered. */
const protocols = (list: string[]) => ({
  type: "set",
  required: true,
  default: ["http", "https"],
  elements: { type: "string", one_of: list },
});
/** A tag can no more be null than any list item; Portico does not repeat that on the element. */
const tags = { type: "set", elements: { type: "string" } };
const streamEndpoints = {
  type: "array",
  elements: {
    type: "record",
    fields: [{ ip: { type: "string" } }, { port: { type: "integer", between: [0, 65535] } }],
  },
};
/** Kong's `required: false` is the default and goes unsaid. */
const notRequiredSaid = { type: "string" };
/** Portico refuses null where it has a default (Kong lets null through to the default on these). */
const requiredBecauseNullRefused = { required: true };

/** Names → attributes, nested field lists too: order is checked apart, against the rendered entities. */
function byName(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(byName);
  if (value === null || typeof value !== "object") return value;
  const out: Attributes = {};
  for (const [key, inner] of Object.entries(value)) {
    const isFieldList =
      key === "fields" && Array.isArray(inner) && inner.every((f) => f && Object.keys(f).length === 1);
    out[key] = isFieldList
      ? Object.fromEntries(
          (inner as Fields).map((f) => Object.entries(f).map(([k, v]) => [k, byName(v)])[0]!),
        )
      : byName(inner);
  }
  return out;
}

/** Kong's schema with Portico's differences: each replaces a field (null: Portico has no such field). */
function portico(
  kong: Schema,
  fields: Record<string, Attributes | null>,
  entity_checks = kong.entity_checks,
) {
  const expected = byName(kong) as { fields: Record<string, unknown> };
  for (const [name, attributes] of Object.entries(fields)) {
    if (attributes === null) delete expected.fields[name];
    else expected.fields[name] = byName(attributes);
  }
  return { fields: expected.fields, entity_checks };
}

const fieldNames = (schema: Schema) => schema.fields.map((f) => Object.keys(f)[0]!);

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

async function schemaOf(path: string): Promise<Schema> {
  const res = await call(tg, path);
  expect({ path, status: res.status }).toEqual({ path, status: 200 });
  return res.body;
}

describe("GET /schemas/{entity}: Kong's rendering, with Portico's differences named", () => {
  test("services", async () => {
    const body = await schemaOf("/schemas/services");
    expect(byName(body)).toEqual(
      portico(
        KONG_SERVICES,
        {
          protocol: { type: "string", one_of: ["http", "https"], required: true, default: "http" },
          // The prefix and empty-segment rules are checked by one function, with Kong's messages.
          path: { type: "string" },
          tags,
          // No certificates entity yet: a bare {id} record, not a reference.
          client_certificate: {
            type: "record",
            fields: [{ id: { type: "string", uuid: true, required: true } }],
          },
          // A null default is what an unset field is anyway; Portico leaves it unsaid everywhere.
          tls_verify_depth: { type: "integer", between: [0, 64] },
        },
        // Kong's path check concerns protocols Portico refuses; TLS settings need https (Portico has no tls).
        TLS_FIELDS.map((field) => tlsOnly(field, ["https"])),
      ),
    );
    expect(fieldNames(body)).toEqual(fieldNames(KONG_SERVICES));
  });

  test("routes", async () => {
    const body = await schemaOf("/schemas/routes");
    expect(byName(body)).toEqual(
      portico(
        KONG_ROUTES,
        {
          // An empty list is refused by a refinement, with Kong's message; one protocol group only.
          protocols: protocols(["http", "https"]),
          tags,
          // Stream routes only: Portico's http(s) routes keep them null or empty, as Kong's http subschema
          // does; so they are lists whose entries carry no check of their own.
          sources: streamEndpoints,
          destinations: streamEndpoints,
          // Portico checks these with JavaScript code (same messages), not Lua patterns.
          methods: { type: "set", elements: { type: "string" } },
          hosts: { type: "array", elements: { type: "string" } },
          paths: { type: "array", elements: { type: "string" } },
          headers: {
            type: "map",
            keys: { type: "string" },
            values: { type: "array", len_min: 1, elements: { type: "string" } },
          },
          regex_priority: { type: "integer", between: [-2147483648, 2147483647], default: 0 },
          path_handling: {
            type: "string",
            default: "v0",
            one_of: ["v0", "v1"],
            ...requiredBecauseNullRefused,
          },
        },
        [
          {
            conditional: {
              if_field: "protocols",
              if_match: { elements: { type: "string", not_one_of: ["https"] } },
              then_field: "snis",
              then_match: { len_eq: 0 },
              then_err:
                "'snis' can only be set when 'protocols' is 'grpcs', 'tls', 'https' or 'tls_passthrough'",
            },
          },
          // Kong's two custom checks are Lua functions (rendered by their field lists only).
        ],
      ),
    );
  });

  test("consumers", async () => {
    const body = await schemaOf("/schemas/consumers");
    expect(byName(body)).toEqual(portico(KONG_CONSUMERS, { tags }));
    expect(fieldNames(body)).toEqual(fieldNames(KONG_CONSUMERS));
  });

  test("plugins (the entity: config is abstract, each plugin's is at /schemas/plugins/{name})", async () => {
    const body = await schemaOf("/schemas/plugins");
    const scope = (reference: string) => ({ type: "foreign", reference, on_delete: "cascade" });
    expect(byName(body)).toEqual(
      portico(KONG_PLUGINS, {
        route: scope("routes"),
        service: scope("services"),
        consumer: scope("consumers"),
        protocols: protocols(["http", "https"]),
        tags,
      }),
    );
  });

  test("keyauth_credentials", async () => {
    const body = await schemaOf("/schemas/keyauth_credentials");
    expect(byName(body)).toEqual(
      portico(KONG_KEYAUTH_CREDENTIALS, {
        key: { type: "string", unique: true, auto: true },
        tags,
        // Kong's ttl is a DAO option (`ttl = true`), rendered nowhere; Portico stores it as a field.
        ttl: { type: "integer", between: [0, 100000000] },
      }),
    );
  });

  test("basicauth_credentials", async () => {
    const body = await schemaOf("/schemas/basicauth_credentials");
    // `encrypted` is a Kong Enterprise flag that does nothing in Kong CE; Portico stores an argon2id hash.
    expect(byName(body)).toEqual(
      portico(KONG_BASICAUTH_CREDENTIALS, { password: { type: "string", required: true }, tags }),
    );
  });

  test("jwt_secrets", async () => {
    const body = await schemaOf("/schemas/jwt_secrets");
    const asymmetric = ["RS256", "RS384", "RS512", "ES256", "ES384"];
    expect(byName(body)).toEqual(
      portico(
        KONG_JWT_SECRETS,
        {
          key: { type: "string", unique: true, auto: true },
          // Portico verifies the algorithms it lists (no ES512, PS*, EdDSA).
          algorithm: {
            type: "string",
            default: "HS256",
            one_of: KONG_JWT_ALGORITHMS.slice(0, 8),
            ...requiredBecauseNullRefused,
          },
          tags,
        },
        [
          {
            conditional: {
              if_field: "algorithm",
              if_match: { one_of: asymmetric },
              then_field: "rsa_public_key",
              then_match: { required: true },
            },
          },
        ],
      ),
    );
  });

  test("acls", async () => {
    const body = await schemaOf("/schemas/acls");
    expect(byName(body)).toEqual(portico(KONG_ACLS, { tags }));
  });

  test("targets (timestamps in float milliseconds, as Kong's auto_timestamp_ms)", async () => {
    const body = await schemaOf("/schemas/targets");
    expect(byName(body)).toEqual(portico(KONG_TARGETS, { tags }));
    expect(fieldNames(body)).toEqual(fieldNames(KONG_TARGETS));
  });

  test("upstreams: a record's default is what the store fills in when it is left out", async () => {
    const body = await schemaOf("/schemas/upstreams");
    const field = (name: string) => body.fields.find((f) => name in f)![name]!;
    expect(field("name")).toEqual({ type: "string", required: true, unique: true });
    expect(field("slots")).toEqual({ type: "integer", between: [10, 65536], default: 10000 });
    const created = await call(tg, "/upstreams", { method: "POST", body: { name: "defaults.example" } });
    expect(created.status).toBe(201);
    expect(field("healthchecks").default).toEqual(created.body.healthchecks);
    expect(field("healthchecks").type).toBe("record");
  });

  test("fields come in the order the entities themselves are rendered", async () => {
    const svc = await createService(tg, { name: "schema-order", host: "a.example" });
    const route = await call(tg, "/routes", {
      method: "POST",
      body: { paths: ["/o"], service: { id: svc.id } },
    });
    const consumer = await call(tg, "/consumers", { method: "POST", body: { username: "schema-order" } });
    const ca = await TestCa.create();
    const pem = await ca.leaf(["so.test"]);
    const certificate = await call(tg, "/certificates", {
      method: "POST",
      body: { cert: pem.cert, key: pem.key },
    });
    const owned = (path: string, body: Attributes) =>
      call(tg, `/consumers/schema-order/${path}`, { method: "POST", body });
    const rendered: Record<string, Attributes> = {
      services: svc,
      routes: route.body,
      consumers: consumer.body,
      plugins: (await call(tg, "/plugins", { method: "POST", body: { name: "key-auth" } })).body,
      keyauth_credentials: (await owned("key-auth", {})).body,
      basicauth_credentials: (await owned("basic-auth", { username: "so", password: "pw" })).body,
      jwt_secrets: (await owned("jwt", {})).body,
      acls: (await owned("acls", { group: "g" })).body,
      upstreams: (await call(tg, "/upstreams", { method: "POST", body: { name: "schema-order.example" } }))
        .body,
      targets: (
        await call(tg, "/upstreams/schema-order.example/targets", {
          method: "POST",
          body: { target: "10.0.0.1:80" },
        })
      ).body,
      certificates: certificate.body,
      snis: (
        await call(tg, `/certificates/${certificate.body.id}/snis`, {
          method: "POST",
          body: { name: "so.test" },
        })
      ).body,
      ca_certificates: (await call(tg, "/ca_certificates", { method: "POST", body: { cert: ca.ca.cert } }))
        .body,
    };
    expect(Object.keys(rendered).sort()).toEqual([...ENTITY_NAMES].sort());
    for (const [entity, body] of Object.entries(rendered))
      expect({ entity, fields: fieldNames(await schemaOf(`/schemas/${entity}`)) }).toEqual({
        entity,
        fields: Object.keys(body),
      });
  });

  test("an unknown entity is Kong's 404; only GET is routed", async () => {
    const missing = await call(tg, "/schemas/vaults");
    expect({ status: missing.status, body: missing.body }).toEqual({
      status: 404,
      body: { message: "No entity named 'vaults'" },
    });
    const post = await call(tg, "/schemas/services", { method: "POST", body: {} });
    expect({ status: post.status, body: post.body }).toEqual({
      status: 405,
      body: { message: "Method not allowed" },
    });
    const head = await tg.admin("/schemas/routes", { method: "HEAD" });
    expect(head.status).toBe(200);
  });
});

describe("GET /schemas/plugins/{name}: the plugin's own fields, config expanded", () => {
  /** Every bundled Kong plugin's head, with Portico's protocols. */
  const head = { protocols: protocols(["http", "https"]) };

  test("key-auth", async () => {
    const body = await schemaOf("/schemas/plugins/key-auth");
    const config = byName(KONG_KEY_AUTH) as { fields: { config: { fields: Record<string, unknown> } } };
    expect(byName(body)).toEqual(
      portico(KONG_KEY_AUTH, {
        ...head,
        config: {
          ...config.fields.config,
          fields: [
            // An empty list of key names could never find a key: refused.
            {
              key_names: {
                type: "array",
                len_min: 1,
                required: true,
                elements: { type: "string" },
                default: ["apikey"],
              },
            },
            ...(KONG_KEY_AUTH.fields[2]!.config!.fields as Fields).slice(1, -1),
            { realm: notRequiredSaid },
          ],
        },
      }),
    );
    expect(fieldNames(body)).toEqual(fieldNames(KONG_KEY_AUTH));
  });

  test("basic-auth", async () => {
    const body = await schemaOf("/schemas/plugins/basic-auth");
    expect(byName(body)).toEqual(portico(KONG_BASIC_AUTH, head));
  });

  test("acl", async () => {
    const body = await schemaOf("/schemas/plugins/acl");
    expect(byName(body)).toEqual(portico(KONG_ACL, head));
  });

  test("jwt", async () => {
    const body = await schemaOf("/schemas/plugins/jwt");
    const list = (value: string[]) => ({
      // Lists whose duplicates are kept as given, and refused as null (they have defaults).
      type: "array",
      elements: { type: "string" },
      default: value,
      ...requiredBecauseNullRefused,
    });
    expect(byName(body)).toEqual(
      portico(KONG_JWT, {
        ...head,
        config: {
          type: "record",
          required: true,
          fields: [
            { uri_param_names: list(["jwt"]) },
            { cookie_names: list([]) },
            { header_names: list(["authorization"]) },
            { claims_to_verify: { type: "set", elements: { type: "string", one_of: ["exp", "nbf"] } } },
            { key_claim_name: { type: "string", default: "iss", ...requiredBecauseNullRefused } },
            { secret_is_base64: bool(false) },
            { anonymous: { type: "string" } },
            { run_on_preflight: bool(true) },
            {
              maximum_expiration: {
                type: "number",
                default: 0,
                between: [0, 31536000],
                ...requiredBecauseNullRefused,
              },
            },
            { realm: notRequiredSaid },
          ],
        },
      }),
    );
  });

  test("config fields come in the order a configured plugin renders them", async () => {
    const svc = await createService(tg, { name: "config-order", host: "a.example" });
    for (const [name, config] of [
      ["key-auth", {}],
      ["basic-auth", {}],
      ["acl", { allow: ["a"] }],
      ["jwt", {}],
      ["ip-restriction", { allow: ["10.0.0.0/8"] }],
      ["cors", {}],
      ["request-size-limiting", {}],
    ] as const) {
      const plugin = await call(tg, `/services/${svc.id}/plugins`, {
        method: "POST",
        body: { name, config },
      });
      expect(plugin.status).toBe(201);
      const schema = await schemaOf(`/schemas/plugins/${name}`);
      const configFields = (schema.fields.at(-1)!.config!.fields as Fields).map((f) => Object.keys(f)[0]);
      expect({ name, fields: configFields }).toEqual({ name, fields: Object.keys(plugin.body.config) });
    }
  });

  test("an unknown plugin is Kong's 404", async () => {
    const res = await call(tg, "/schemas/plugins/not-a-plugin");
    expect({ status: res.status, body: res.body }).toEqual({
      status: 404,
      body: { message: "No plugin named 'not-a-plugin'" },
    });
  });
});

describe("GET /schemas/plugins/{name}/json-schema", () => {
  test("the config as JSON Schema, with the plugin's name, priority and version", async () => {
    const body = (await call(tg, "/schemas/plugins/basic-auth/json-schema")).body;
    expect(body).toEqual({
      name: "basic-auth",
      priority: 1100,
      version: "1.0.0",
      config: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        properties: {
          anonymous: { default: null, anyOf: [{ type: "string", minLength: 1 }, { type: "null" }] },
          hide_credentials: { default: false, type: "boolean" },
          realm: { default: "service", type: "string", minLength: 1 },
        },
        additionalProperties: false,
      },
    });
    const missing = await call(tg, "/schemas/plugins/nope/json-schema");
    expect({ status: missing.status, body: missing.body }).toEqual({
      status: 404,
      body: { message: "No plugin named 'nope'" },
    });
  });
});
