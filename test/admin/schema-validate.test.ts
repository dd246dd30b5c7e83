// Black-box: POST /schemas/{entity}/validate and /schemas/plugins/validate — the store's own zod schema runs,
// nothing is written and references are not resolved (Kong: schema:validate on the insert form of the body);
// and every entity check GET /schemas/… renders is one the schema enforces.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { call, type Reply } from "./helpers.ts";

const OK = { message: "schema validation successful" };
const UNKNOWN_UUID = "9d2b4d4e-6c0e-4b8f-8d7e-2f1a3b4c5d6e";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

const validate = (entity: string, body?: unknown, headers?: Record<string, string>) =>
  call(tg, `/schemas/${entity}/validate`, { method: "POST", body, ...(headers ? { headers } : {}) });

const outcome = (res: Reply) => ({ status: res.status, body: res.body });

function violation(fields: Record<string, unknown>, message: string) {
  return { status: 400, body: { code: 2, name: "schema violation", message, fields } };
}

describe("POST /schemas/{entity}/validate", () => {
  test("a valid body: Kong's success message, and nothing is written", async () => {
    const version = (await call(tg, "/status")).body.configuration_version;
    expect(outcome(await validate("services", { host: "example.com" }))).toEqual({ status: 200, body: OK });
    expect(outcome(await validate("consumers", { username: "nobody-yet" }))).toEqual({
      status: 200,
      body: OK,
    });
    expect((await call(tg, "/services")).body.data).toEqual([]);
    expect((await call(tg, "/consumers")).body.data).toEqual([]);
    expect((await call(tg, "/status")).body.configuration_version).toBe(version);
  });

  test("an invalid body: Kong's schema violation, with every field's message", async () => {
    expect(outcome(await validate("services", { port: 70000, connect_timeout: 0 }))).toEqual(
      violation(
        {
          host: "required field missing",
          port: "value should be between 0 and 65535",
          connect_timeout: "value should be between 1 and 2147483646",
        },
        "3 schema violations (connect_timeout: value should be between 1 and 2147483646; host: required field missing; port: value should be between 0 and 65535)",
      ),
    );
    expect(outcome(await validate("routes", { paths: ["/a"], bogus: 1 }))).toEqual(
      violation({ bogus: "unknown field" }, "schema violation (bogus: unknown field)"),
    );
  });

  test("the url shorthand and form bodies work as on the entity's own endpoints", async () => {
    expect(outcome(await validate("services", { url: "https://example.com:8443/api" }))).toEqual({
      status: 200,
      body: OK,
    });
    const form = (body: string) =>
      validate("services", body, { "content-type": "application/x-www-form-urlencoded" });
    expect(outcome(await form("host=example.com&port=8080&tags[]=a"))).toEqual({ status: 200, body: OK });
    expect(outcome(await form("host=example.com&port=eighty"))).toEqual(
      violation({ port: "expected an integer" }, "schema violation (port: expected an integer)"),
    );
  });

  test("references are checked for shape, not looked up (as Kong's schema validation)", async () => {
    expect(outcome(await validate("routes", { paths: ["/r"], service: { id: UNKNOWN_UUID } }))).toEqual({
      status: 200,
      body: OK,
    });
    expect(outcome(await validate("keyauth_credentials", { consumer: { id: UNKNOWN_UUID } }))).toEqual({
      status: 200,
      body: OK,
    });
    expect(outcome(await validate("routes", { paths: ["/r"], service: { id: "not-a-uuid" } }))).toEqual(
      violation(
        { service: { id: "expected a valid UUID" } },
        "schema violation (service.id: expected a valid UUID)",
      ),
    );
    expect(outcome(await validate("acls", { group: "g" }))).toEqual(
      violation(
        { consumer: "required field missing" },
        "schema violation (consumer: required field missing)",
      ),
    );
    expect((await call(tg, "/key-auths")).body.data).toEqual([]);
  });

  test("an unknown entity is Kong's 404; bodies Kong refuses are refused", async () => {
    expect(outcome(await validate("vaults", {}))).toEqual({
      status: 404,
      body: { message: "No entity named 'vaults'" },
    });
    expect(outcome(await validate("services", "{", { "content-type": "application/json" }))).toEqual({
      status: 400,
      body: { message: "Cannot parse JSON body" },
    });
    expect((await validate("services", "host=x", { "content-type": "text/plain" })).status).toBe(415);
    const get = await call(tg, "/schemas/services/validate");
    expect(outcome(get)).toEqual({ status: 405, body: { message: "Method not allowed" } });
  });
});

describe("POST /schemas/plugins/validate", () => {
  test("a plugin with its config (Kong's own test case)", async () => {
    const body = { name: "key-auth", config: { key_names: ["foo", "bar"], hide_credentials: true } };
    expect(outcome(await validate("plugins", body))).toEqual({ status: 200, body: OK });
    expect((await call(tg, "/plugins")).body.data).toEqual([]);
  });

  test("config errors, an unknown plugin, a missing name", async () => {
    expect(outcome(await validate("plugins", { name: "key-auth", config: { keys: "foo" } }))).toEqual(
      violation({ config: { keys: "unknown field" } }, "schema violation (config.keys: unknown field)"),
    );
    const bundled: string[] = (await call(tg, "/plugins/enabled")).body.enabled_plugins;
    const notEnabled = `plugin 'not-a-plugin' not enabled; bundled plugins: ${bundled.join(", ")}`;
    expect(outcome(await validate("plugins", { name: "not-a-plugin" }))).toEqual(
      violation({ name: notEnabled }, `schema violation (name: ${notEnabled})`),
    );
    expect(outcome(await validate("plugins"))).toEqual(
      violation({ name: "required field missing" }, "schema violation (name: required field missing)"),
    );
  });

  test("a form body's config is typed by the plugin it names", async () => {
    const form = (body: string) =>
      validate("plugins", body, { "content-type": "application/x-www-form-urlencoded" });
    expect(outcome(await form("name=acl&config.allow[]=partners&config.hide_groups_header=true"))).toEqual({
      status: 200,
      body: OK,
    });
    expect(outcome(await form("name=key-auth&config.hide_credentials=yes"))).toEqual(
      violation(
        { config: { hide_credentials: "expected a boolean" } },
        "schema violation (config.hide_credentials: expected a boolean)",
      ),
    );
  });

  test("GET on it is 405, not a plugin named 'validate'", async () => {
    expect(outcome(await call(tg, "/schemas/plugins/validate"))).toEqual({
      status: 405,
      body: { message: "Method not allowed" },
    });
  });
});

type Conditional = {
  if_match: { one_of?: string[]; not_one_of?: string[] } & Record<string, unknown>;
  then_field: string;
  then_err?: string;
} & Record<string, unknown>;
type Check = { conditional?: Conditional } & Record<string, unknown>;

/** The checks as served: the tests below drive validation from them, so a rendered check cannot drift. */
async function checksOf(path: string): Promise<Check[]> {
  return (await call(tg, path)).body.entity_checks;
}

describe("every rendered entity check is enforced", () => {
  test("services: TLS settings need an https service", async () => {
    const values: Record<string, unknown> = {
      client_certificate: { id: UNKNOWN_UUID },
      tls_verify: true,
      tls_verify_depth: 2,
      ca_certificates: [UNKNOWN_UUID],
    };
    const checks = await checksOf("/schemas/services");
    expect(checks.length).toBe(4);
    for (const { conditional } of checks) {
      const field = conditional!.then_field;
      const body = { host: "example.com", [field]: values[field] };
      expect(outcome(await validate("services", { ...body, protocol: "http" }))).toEqual(
        violation(
          {
            [field]: "value must be null",
            "@entity": ["failed conditional validation given value of field 'protocol'"],
          },
          `2 schema violations (failed conditional validation given value of field 'protocol'; ${field}: value must be null)`,
        ),
      );
      for (const allowed of conditional!.if_match.not_one_of!)
        expect(outcome(await validate("services", { ...body, protocol: allowed }))).toEqual({
          status: 200,
          body: OK,
        });
    }
  });

  test("routes: snis only with https, with the rendered message", async () => {
    const [snis] = await checksOf("/schemas/routes");
    const message = snis!.conditional!.then_err!;
    expect(
      outcome(await validate("routes", { protocols: ["http"], paths: ["/"], snis: ["a.example"] })),
    ).toEqual(violation({ snis: message }, `schema violation (snis: ${message})`));
    expect(
      outcome(await validate("routes", { protocols: ["https"], paths: ["/"], snis: ["a.example"] })),
    ).toEqual({ status: 200, body: OK });
  });

  test("consumers: a username or a custom_id", async () => {
    expect(await checksOf("/schemas/consumers")).toEqual([{ at_least_one_of: ["custom_id", "username"] }]);
    const message = "at least one of these fields must be non-empty: 'custom_id', 'username'";
    expect(outcome(await validate("consumers", {}))).toEqual(
      violation({ "@entity": [message] }, `schema violation (${message})`),
    );
    expect(outcome(await validate("consumers", { custom_id: "c" }))).toEqual({ status: 200, body: OK });
  });

  test("jwt_secrets: each asymmetric algorithm needs a public key", async () => {
    const [check] = await checksOf("/schemas/jwt_secrets");
    const algorithms = check!.conditional!.if_match.one_of!;
    expect(algorithms.length).toBeGreaterThan(0);
    for (const algorithm of algorithms)
      expect(outcome(await validate("jwt_secrets", { consumer: { id: UNKNOWN_UUID }, algorithm }))).toEqual(
        violation(
          {
            rsa_public_key: "required field missing",
            "@entity": ["failed conditional validation given value of field 'algorithm'"],
          },
          "2 schema violations (failed conditional validation given value of field 'algorithm'; rsa_public_key: required field missing)",
        ),
      );
    expect(
      outcome(await validate("jwt_secrets", { consumer: { id: UNKNOWN_UUID }, algorithm: "HS512" })),
    ).toEqual({
      status: 200,
      body: OK,
    });
  });

  test("acl: exactly one of allow and deny", async () => {
    expect(await checksOf("/schemas/plugins/acl")).toEqual([
      { only_one_of: ["config.allow", "config.deny"] },
      { at_least_one_of: ["config.allow", "config.deny"] },
    ]);
    const both = "exactly one of these fields must be non-empty: 'config.allow', 'config.deny'";
    const none = "at least one of these fields must be non-empty: 'config.allow', 'config.deny'";
    expect(
      outcome(await validate("plugins", { name: "acl", config: { allow: ["a"], deny: ["b"] } })),
    ).toEqual(violation({ "@entity": [both] }, `schema violation (${both})`));
    expect(outcome(await validate("plugins", { name: "acl" }))).toEqual(
      violation({ "@entity": [none] }, `schema violation (${none})`),
    );
  });

  test("ip-restriction: at least one of allow and deny", async () => {
    expect(await checksOf("/schemas/plugins/ip-restriction")).toEqual([
      { at_least_one_of: ["config.allow", "config.deny"] },
    ]);
    const none = "at least one of these fields must be non-empty: 'config.allow', 'config.deny'";
    expect(outcome(await validate("plugins", { name: "ip-restriction" }))).toEqual(
      violation({ "@entity": [none] }, `schema violation (${none})`),
    );
    const deny = { name: "ip-restriction", config: { deny: ["10.0.0.0/8"] } };
    expect(outcome(await validate("plugins", deny))).toEqual({ status: 200, body: OK });
  });

  test("jwt: a maximum expiration needs exp among the verified claims", async () => {
    const [check] = await checksOf("/schemas/plugins/jwt");
    expect(check).toEqual({
      conditional: {
        if_field: "config.maximum_expiration",
        if_match: { gt: 0 },
        then_field: "config.claims_to_verify",
        then_match: { contains: "exp" },
      },
    });
    const config = { maximum_expiration: 60, claims_to_verify: ["nbf"] };
    expect(outcome(await validate("plugins", { name: "jwt", config }))).toEqual(
      violation(
        {
          config: { claims_to_verify: "expected to contain: exp" },
          "@entity": ["failed conditional validation given value of field 'config.maximum_expiration'"],
        },
        "2 schema violations (failed conditional validation given value of field 'config.maximum_expiration'; config.claims_to_verify: expected to contain: exp)",
      ),
    );
    const withExp = { maximum_expiration: 60, claims_to_verify: ["exp"] };
    expect(outcome(await validate("plugins", { name: "jwt", config: withExp }))).toEqual({
      status: 200,
      body: OK,
    });
  });
});
