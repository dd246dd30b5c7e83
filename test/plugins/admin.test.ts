// Black-box: the admin REST API of plugins, consumers and credentials — Kong's validation errors, uniques,
// cascades, /plugins/enabled, /schemas/plugins/{name}/json-schema and /plugins/{p}/service|route|consumer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, type PluginWorld, startWorld } from "./helpers.ts";

let w: PluginWorld;
let svc: { id: string; routes: string[] };

/** An admin call expected to fail: returns the parsed error body after checking the status. */
// biome-ignore lint/suspicious/noExplicitAny: error bodies are arbitrary JSON
async function failing(method: string, path: string, body: unknown, status: number): Promise<any> {
  const res = await w.tg.admin(path, { method, body });
  const text = await res.text();
  expect({ method, path, status: res.status }).toEqual({ method, path, status });
  return text ? JSON.parse(text) : null;
}

const schemaViolation = (message: string, fields: unknown) => ({
  code: 2,
  name: "schema violation",
  message,
  fields,
});

beforeAll(async () => {
  w = await startWorld();
  svc = await w.service("adm", ["/adm-a", "/adm-b"]);
});

afterAll(() => w.stop());

describe("plugin validation", () => {
  test("an unknown plugin name: Kong's 'not enabled' schema violation", async () => {
    const message =
      "plugin 'rate-limiting-xl' not enabled; bundled plugins: acl, basic-auth, correlation-id, cors, file-log, http-log, ip-restriction, jwt, key-auth, prometheus, proxy-cache, rate-limiting, request-size-limiting, request-termination, request-transformer, response-transformer";
    expect(await failing("POST", "/plugins", { name: "rate-limiting-xl" }, 400)).toEqual(
      schemaViolation(`schema violation (name: ${message})`, { name: message }),
    );
    expect(await failing("POST", "/plugins", { config: {} }, 400)).toEqual(
      schemaViolation("schema violation (name: required field missing)", { name: "required field missing" }),
    );
  });

  test("config errors are reported under config with field paths", async () => {
    const body = await failing(
      "POST",
      "/plugins",
      { name: "key-auth", config: { key_names: ["ok", "bad name"], hide_credentials: "yes", nope: 1 } },
      400,
    );
    expect(body.code).toBe(2);
    expect(body.fields).toEqual({
      config: {
        key_names: [null, "bad header name, allowed characters are A-Z, a-z, 0-9, '_', and '-'"],
        hide_credentials: "expected a boolean",
        nope: "unknown field",
      },
    });
    expect(body.message).toStartWith("3 schema violations (");
    const jwt = await failing(
      "POST",
      "/plugins",
      { name: "jwt", config: { claims_to_verify: ["iat"] } },
      400,
    );
    expect(jwt.fields).toEqual({ config: { claims_to_verify: ["expected one of: exp, nbf"] } });
    const notRecord = await failing("POST", "/plugins", { name: "jwt", config: "x" }, 400);
    expect(notRecord.fields).toEqual({ config: "expected a record" });
  });

  test("jwt: maximum_expiration with a claims list lacking exp fails Kong's conditional check", async () => {
    const body = await failing(
      "POST",
      "/plugins",
      { name: "jwt", config: { maximum_expiration: 60, claims_to_verify: ["nbf"] } },
      400,
    );
    expect(body.fields).toEqual({
      "@entity": ["failed conditional validation given value of field 'config.maximum_expiration'"],
      config: { claims_to_verify: "expected to contain: exp" },
    });
    const made = await admin(w.tg, "POST", "/plugins", { name: "jwt", config: { maximum_expiration: 60 } });
    expect(made.config.maximum_expiration).toBe(60);
    await admin(w.tg, "DELETE", `/plugins/${made.id}`);
  });

  test("acl: exactly one of allow / deny, with Kong's two messages", async () => {
    const exactly = "exactly one of these fields must be non-empty: 'config.allow', 'config.deny'";
    const atLeast = "at least one of these fields must be non-empty: 'config.allow', 'config.deny'";
    const cases: [Record<string, unknown>, string[]][] = [
      [{ allow: ["a"], deny: ["b"] }, [exactly]],
      [{}, [atLeast]],
      [{ allow: [], deny: [] }, [exactly, atLeast]],
    ];
    for (const [config, messages] of cases) {
      const body = await failing("POST", "/plugins", { name: "acl", config }, 400);
      expect(body.fields).toEqual({ "@entity": messages });
    }
    const none = await failing("POST", "/plugins", { name: "acl" }, 400);
    expect(none.fields).toEqual({ "@entity": [atLeast] });
  });

  test("authentication plugins and acl cannot be scoped to a consumer", async () => {
    const consumer = await w.consumer({ username: "scoped" });
    for (const name of ["key-auth", "basic-auth", "jwt", "acl"]) {
      const config = name === "acl" ? { allow: ["x"] } : {};
      const expectedBody = schemaViolation("schema violation (consumer: value must be null)", {
        consumer: "value must be null",
      });
      expect(await failing("POST", "/consumers/scoped/plugins", { name, config }, 400)).toEqual(expectedBody);
      expect(await failing("POST", "/plugins", { name, config, consumer: { id: consumer.id } }, 400)).toEqual(
        expectedBody,
      );
    }
    await admin(w.tg, "DELETE", "/consumers/scoped");
  });

  test("one plugin of a name per scope: 409 with Kong's fields; other scopes are free", async () => {
    const route = svc.routes[0]!;
    const first = await admin(w.tg, "POST", `/routes/${route}/plugins`, { name: "basic-auth" });
    const dup = await failing("POST", `/routes/${route}/plugins`, { name: "basic-auth" }, 409);
    expect(dup).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{consumer=null,name="basic-auth",route={id="${route}"},service=null}'`,
      fields: { consumer: null, name: "basic-auth", route: { id: route }, service: null },
    });
    const viaTop = await failing("POST", "/plugins", { name: "basic-auth", route: { id: route } }, 409);
    expect(viaTop.fields).toEqual(dup.fields);
    const global = await admin(w.tg, "POST", "/plugins", { name: "basic-auth" });
    const globalDup = await failing("POST", "/plugins", { name: "basic-auth" }, 409);
    expect(globalDup.fields).toEqual({ consumer: null, name: "basic-auth", route: null, service: null });
    const onService = await admin(w.tg, "POST", `/services/${svc.id}/plugins`, { name: "basic-auth" });
    const both = await admin(w.tg, "POST", "/plugins", {
      name: "basic-auth",
      route: { id: route },
      service: { id: svc.id },
    });
    for (const p of [first, global, onService, both]) await admin(w.tg, "DELETE", `/plugins/${p.id}`);
  });

  test("a plugin on a missing route: foreign key violation", async () => {
    const ghost = "00000000-0000-4000-8000-00000000dead";
    const body = await failing("POST", "/plugins", { name: "basic-auth", route: { id: ghost } }, 400);
    expect(body.code).toBe(4);
    expect(body.fields).toEqual({ route: { id: ghost } });
    expect(await failing("POST", `/routes/${ghost}/plugins`, { name: "basic-auth" }, 404)).toEqual({
      message: "Not found",
    });
  });

  test("config defaults are filled and rendered; PATCH merges config as Kong does", async () => {
    const made = await admin(w.tg, "POST", `/services/${svc.id}/plugins`, {
      name: "key-auth",
      instance_name: "svc-keys",
      config: { key_names: ["x-key"] },
    });
    expect(made.config).toEqual({
      key_names: ["x-key"],
      hide_credentials: false,
      anonymous: null,
      key_in_header: true,
      key_in_query: true,
      key_in_body: false,
      run_on_preflight: true,
      realm: null,
    });
    expect(made.service).toEqual({ id: svc.id });
    // Portico proxies HTTP only: the protocol set (and its default) is http/https (Kong adds grpc, ws …).
    expect(made.protocols).toEqual(["http", "https"]);
    const patched = await admin(w.tg, "PATCH", "/plugins/svc-keys", { config: { hide_credentials: true } });
    expect(patched.config.key_names).toEqual(["x-key"]);
    expect(patched.config.hide_credentials).toBe(true);
    const nested = await admin(w.tg, "PATCH", `/services/${svc.id}/plugins/svc-keys`, {
      config: { key_names: ["y-key", "z-key"] },
    });
    expect(nested.config).toMatchObject({ key_names: ["y-key", "z-key"], hide_credentials: true });
    const bad = await failing("PATCH", "/plugins/svc-keys", { config: { key_in_body: 3 } }, 400);
    expect(bad.fields).toEqual({ config: { key_in_body: "expected a boolean" } });
    expect((await admin(w.tg, "GET", `/services/${svc.id}/plugins/svc-keys`)).id).toBe(made.id);
    expect(await failing("GET", `/routes/${svc.routes[0]}/plugins/svc-keys`, undefined, 404)).toEqual({
      message: "Not found",
    });
    await admin(w.tg, "DELETE", "/plugins/svc-keys");
  });

  test("form-encoded configs are typed by the plugin's schema", async () => {
    const res = await w.tg.admin("/plugins", {
      method: "POST",
      body: new URLSearchParams(
        "name=acl&config.allow[]=gold&config.allow[]=silver&config.hide_groups_header=true",
      ),
    });
    expect(res.status).toBe(201);
    const made = await res.json();
    expect(made.config).toEqual({
      allow: ["gold", "silver"],
      deny: null,
      hide_groups_header: true,
      always_use_authenticated_groups: false,
    });
    await admin(w.tg, "DELETE", `/plugins/${made.id}`);
  });
});

describe("plugin discovery", () => {
  test("/plugins/enabled lists the bundled plugins", async () => {
    expect(await admin(w.tg, "GET", "/plugins/enabled")).toEqual({
      enabled_plugins: [
        "acl",
        "basic-auth",
        "correlation-id",
        "cors",
        "file-log",
        "http-log",
        "ip-restriction",
        "jwt",
        "key-auth",
        "prometheus",
        "proxy-cache",
        "rate-limiting",
        "request-size-limiting",
        "request-termination",
        "request-transformer",
        "response-transformer",
      ],
    });
  });

  test("/schemas/plugins/{name}/json-schema describes each config as JSON Schema; an unknown name is 404", async () => {
    const priorities = { "key-auth": 1250, "basic-auth": 1100, jwt: 1450, acl: 950 };
    for (const [name, priority] of Object.entries(priorities)) {
      const schema = await admin(w.tg, "GET", `/schemas/plugins/${name}/json-schema`);
      expect(schema.name).toBe(name);
      expect(schema.priority).toBe(priority);
      expect(schema.config.type).toBe("object");
    }
    const keyAuth = await admin(w.tg, "GET", "/schemas/plugins/key-auth/json-schema");
    expect(keyAuth.config.properties.key_names.default).toEqual(["apikey"]);
    expect(Object.keys(keyAuth.config.properties).sort()).toEqual(
      [
        "anonymous",
        "hide_credentials",
        "key_in_body",
        "key_in_header",
        "key_in_query",
        "key_names",
        "realm",
        "run_on_preflight",
      ].sort(),
    );
    expect(await failing("GET", "/schemas/plugins/nope/json-schema", undefined, 404)).toEqual({
      message: "No plugin named 'nope'",
    });
  });
});

describe("/plugins/{p}/service, /route, /consumer", () => {
  test("GET, PATCH and PUT reach the service; DELETE is 405; unscoped plugins are 404", async () => {
    const extra = await w.service("parent-svc", ["/parent"]);
    const plugin = await admin(w.tg, "POST", `/services/${extra.id}/plugins`, {
      name: "acl",
      instance_name: "parent-acl",
      config: { allow: ["x"] },
    });
    expect((await admin(w.tg, "GET", "/plugins/parent-acl/service")).id).toBe(extra.id);
    expect((await admin(w.tg, "GET", `/plugins/${plugin.id}/service`)).name).toBe("parent-svc");
    const patched = await admin(w.tg, "PATCH", "/plugins/parent-acl/service", { retries: 2 });
    expect({ id: patched.id, retries: patched.retries, name: patched.name }).toEqual({
      id: extra.id,
      retries: 2,
      name: "parent-svc",
    });
    const put = await admin(w.tg, "PUT", "/plugins/parent-acl/service", {
      name: "parent-svc",
      url: w.upstream.url,
    });
    expect({ id: put.id, retries: put.retries }).toEqual({ id: extra.id, retries: 5 });
    expect(await failing("DELETE", "/plugins/parent-acl/service", undefined, 405)).toEqual({
      message: "Method not allowed",
    });
    expect((await admin(w.tg, "GET", `/services/${extra.id}`)).id).toBe(extra.id);
    for (const tail of ["route", "consumer"])
      expect(await failing("GET", `/plugins/parent-acl/${tail}`, undefined, 404)).toEqual({
        message: "Not found",
      });
    const global = await admin(w.tg, "POST", "/plugins", { name: "acl", config: { deny: ["y"] } });
    await failing("GET", `/plugins/${global.id}/service`, undefined, 404);
    await failing("GET", "/plugins/00000000-0000-4000-8000-000000000404/service", undefined, 404);
    const onRoute = await admin(w.tg, "POST", `/routes/${extra.routes[0]}/plugins`, {
      name: "basic-auth",
    });
    expect((await admin(w.tg, "GET", `/plugins/${onRoute.id}/route`)).id).toBe(extra.routes[0]);
    for (const id of [global.id, onRoute.id, plugin.id]) await admin(w.tg, "DELETE", `/plugins/${id}`);
  });
});

describe("consumers", () => {
  test("at least one of username / custom_id", async () => {
    const message = "at least one of these fields must be non-empty: 'custom_id', 'username'";
    expect(await failing("POST", "/consumers", {}, 400)).toEqual(
      schemaViolation(`schema violation (${message})`, { "@entity": [message] }),
    );
    expect(await failing("POST", "/consumers", { tags: ["t"] }, 400)).toEqual(
      schemaViolation(`schema violation (${message})`, { "@entity": [message] }),
    );
  });

  test("username and custom_id are each unique: 409", async () => {
    const c = await w.consumer({ username: "uniq", custom_id: "uniq-cid" });
    expect(await failing("POST", "/consumers", { username: "uniq" }, 409)).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{username="uniq"}'`,
      fields: { username: "uniq" },
    });
    expect((await failing("POST", "/consumers", { custom_id: "uniq-cid" }, 409)).fields).toEqual({
      custom_id: "uniq-cid",
    });
    const other = await w.consumer({ username: "other-uniq" });
    expect((await failing("PATCH", `/consumers/${other.id}`, { username: "uniq" }, 409)).code).toBe(5);
    expect((await admin(w.tg, "GET", "/consumers/uniq")).id).toBe(c.id);
    const renamed = await admin(w.tg, "PATCH", "/consumers/uniq", { custom_id: null });
    expect(renamed.custom_id).toBeNull();
    expect((await failing("PATCH", "/consumers/uniq", { username: null }, 400)).fields).toEqual({
      "@entity": ["at least one of these fields must be non-empty: 'custom_id', 'username'"],
    });
    await admin(w.tg, "DELETE", "/consumers/uniq");
    await admin(w.tg, "DELETE", "/consumers/other-uniq");
    expect(await failing("GET", "/consumers/uniq", undefined, 404)).toEqual({ message: "Not found" });
  });
});

describe("credentials", () => {
  test("a credential for a missing consumer: 404 for every kind", async () => {
    for (const [segment, body] of [
      ["key-auth", { key: "k-missing" }],
      ["basic-auth", { username: "u-missing", password: "p" }],
      ["jwt", {}],
      ["acls", { group: "g" }],
    ] as const) {
      expect(await failing("POST", `/consumers/ghost/${segment}`, body, 404)).toEqual({
        message: "Not found",
      });
      await failing("GET", `/consumers/ghost/${segment}`, undefined, 404);
    }
  });

  test("keys: generated when absent, unique (409), readable by key, owned by one consumer", async () => {
    const a = await w.consumer({ username: "key-owner" });
    await w.consumer({ username: "key-other" });
    const generated = await admin(w.tg, "POST", "/consumers/key-owner/key-auth", {});
    expect(generated.key).toMatch(/^[0-9a-f]{32}$/);
    expect(generated.consumer).toEqual({ id: a.id });
    await admin(w.tg, "POST", "/consumers/key-owner/key-auth", { key: "fixed-key" });
    expect(await failing("POST", "/consumers/key-other/key-auth", { key: "fixed-key" }, 409)).toEqual({
      code: 5,
      name: "unique constraint violation",
      // The key is a secret: a 409 must not tell a caller what someone else's key is.
      message: "UNIQUE violation detected on '{key=<redacted>}'",
      fields: { key: "already in use" },
    });
    expect((await admin(w.tg, "GET", "/key-auths/fixed-key")).consumer).toEqual({ id: a.id });
    expect((await admin(w.tg, "GET", "/key-auths/fixed-key/consumer")).username).toBe("key-owner");
    expect((await admin(w.tg, "GET", "/consumers/key-owner/key-auth/fixed-key")).key).toBe("fixed-key");
    await failing("GET", "/consumers/key-other/key-auth/fixed-key", undefined, 404);
    const list = await admin(w.tg, "GET", "/consumers/key-owner/key-auth");
    expect(list.data.length).toBe(2);
    expect((await failing("POST", "/consumers/key-owner/key-auth", { ttl: -1 }, 400)).fields).toEqual({
      ttl: "value should be between 0 and 100000000",
    });
    expect((await failing("POST", "/consumers/key-owner/key-auth", { nope: 1 }, 400)).fields).toEqual({
      nope: "unknown field",
    });
  });
});

describe("cascade deletes", () => {
  test("deleting a consumer removes all its credentials, and its key stops working", async () => {
    const gone = await w.consumer({ username: "doomed" });
    await admin(w.tg, "POST", "/consumers/doomed/key-auth", { key: "doomed-key" });
    await admin(w.tg, "POST", "/consumers/doomed/basic-auth", { username: "doomed", password: "pw" });
    await admin(w.tg, "POST", "/consumers/doomed/jwt", { key: "doomed-iss" });
    await admin(w.tg, "POST", "/consumers/doomed/acls", { group: "doomed-group" });
    const route = (await w.service("cascade-c", ["/cascade-c"])).routes[0]!;
    await admin(w.tg, "POST", `/routes/${route}/plugins`, { name: "key-auth" });
    await w.synced();
    await w.pass("/cascade-c", { headers: { apikey: "doomed-key" } });

    await admin(w.tg, "DELETE", "/consumers/doomed");
    const owned = (list: { data: { consumer: { id: string } }[] }) =>
      list.data.filter((c) => c.consumer.id === gone.id);
    for (const path of ["/key-auths", "/basic-auths", "/jwts", "/acls"])
      expect({ path, owned: owned(await admin(w.tg, "GET", path)) }).toEqual({ path, owned: [] });
    await failing("GET", "/key-auths/doomed-key", undefined, 404);
    await w.synced();
    await w.refused(
      "/cascade-c",
      { headers: { apikey: "doomed-key" } },
      401,
      "Invalid authentication credentials",
    );
  });

  test("deleting a route removes its plugins; deleting a service removes its plugins", async () => {
    const s = await w.service("cascade-s", ["/cascade-s1", "/cascade-s2"]);
    const onRoute = await admin(w.tg, "POST", `/routes/${s.routes[0]}/plugins`, { name: "basic-auth" });
    const onService = await admin(w.tg, "POST", `/services/${s.id}/plugins`, { name: "key-auth" });
    const onBoth = await admin(w.tg, "POST", "/plugins", {
      name: "jwt",
      route: { id: s.routes[1] },
      service: { id: s.id },
    });
    await w.synced();
    // Both apply (different names): key-auth (1250) runs before basic-auth (1100).
    await w.refused("/cascade-s1", undefined, 401, "No API key found in request");

    await admin(w.tg, "DELETE", `/routes/${s.routes[0]}`);
    await failing("GET", `/plugins/${onRoute.id}`, undefined, 404);
    expect((await admin(w.tg, "GET", `/plugins/${onService.id}`)).id).toBe(onService.id);
    await admin(w.tg, "DELETE", `/routes/${s.routes[1]}`);
    await failing("GET", `/plugins/${onBoth.id}`, undefined, 404);
    await admin(w.tg, "DELETE", `/services/${s.id}`);
    await failing("GET", `/plugins/${onService.id}`, undefined, 404);
    const remaining = await admin(w.tg, "GET", "/plugins");
    expect(
      remaining.data.filter((p: { id: string }) => [onRoute.id, onService.id, onBoth.id].includes(p.id)),
    ).toEqual([]);
  });
});
