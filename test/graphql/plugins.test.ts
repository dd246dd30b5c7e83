// Plugins over GraphQL: every query and mutation, scopes by id or name, the links both ways, config as
// opaque JSON (the plugin's own snake_case keys, defaults filled in, merged key by key on update) and the
// Kong errors a client maps onto its form.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { gql, gqlData, onlyError, rest } from "./support.ts";

let gw: TestGateway;
let service: { id: string };
let route: { id: string };

const PLUGIN_FIELDS = `id name instanceName config protocols enabled tags createdAt updatedAt
  service { id } route { id } consumer { id }`;

type Plugin = Record<string, unknown> & { id: string; config: Record<string, unknown> };

const KEY_AUTH_DEFAULTS = {
  key_names: ["apikey"],
  hide_credentials: false,
  anonymous: null,
  key_in_header: true,
  key_in_query: true,
  key_in_body: false,
  run_on_preflight: true,
  realm: null,
};

async function addPlugin(input: Record<string, unknown>): Promise<Plugin> {
  const { addPlugin } = await gqlData<{ addPlugin: Plugin }>(
    gw,
    `mutation($input: PluginInput!) { addPlugin(input: $input) { ${PLUGIN_FIELDS} } }`,
    { input },
  );
  return addPlugin;
}

async function addPluginError(input: Record<string, unknown>) {
  const result = await gql(gw, "mutation($input: PluginInput!) { addPlugin(input: $input) { id } }", {
    input,
  });
  expect(result.data).toBeNull();
  return onlyError(result);
}

beforeAll(async () => {
  gw = await startTestGateway();
  service = (await rest(gw, "POST", "/services", { name: "orders", url: "http://127.0.0.1:9/o" })).body as {
    id: string;
  };
  route = (await rest(gw, "POST", "/services/orders/routes", { name: "orders-r", paths: ["/o"] })).body as {
    id: string;
  };
});

afterAll(() => gw.stop());

describe("addPlugin", () => {
  test("a global plugin: config defaults filled in with the plugin's own keys; REST reads the same", async () => {
    const made = await addPlugin({ name: "key-auth", tags: ["g"] });
    expect(made).toMatchObject({
      name: "key-auth",
      instanceName: null,
      config: KEY_AUTH_DEFAULTS,
      protocols: ["http", "https"],
      enabled: true,
      tags: ["g"],
      service: null,
      route: null,
      consumer: null,
    });
    const viaRest = await rest(gw, "GET", `/plugins/${made.id}`);
    expect(viaRest.body).toEqual({
      id: made.id,
      name: "key-auth",
      instance_name: null,
      config: made.config,
      protocols: ["http", "https"],
      enabled: true,
      tags: ["g"],
      created_at: made.createdAt,
      updated_at: made.updatedAt,
      service: null,
      route: null,
      consumer: null,
    });
    expect(await gqlData(gw, `mutation { deletePlugin(idOrName: "${made.id}") }`)).toEqual({
      deletePlugin: made.id,
    });
  });

  test("scoped to a service by name and a route by id; the links resolve both ways", async () => {
    const made = await addPlugin({
      name: "acl",
      instanceName: "orders-acl",
      service: { name: "orders" },
      route: { id: route.id },
      config: { allow: ["gold"], hide_groups_header: true },
    });
    expect(made.service).toEqual({ id: service.id });
    expect(made.route).toEqual({ id: route.id });
    expect(made.config).toEqual({
      allow: ["gold"],
      deny: null,
      hide_groups_header: true,
      always_use_authenticated_groups: false,
    });
    const linked = await gqlData<{
      plugin: { service: { name: string }; route: { name: string; service: { name: string } } };
      service: { plugins: { totalCount: number; data: { instanceName: string }[] } };
      route: { plugins: { totalCount: number; data: { id: string }[] } };
    }>(
      gw,
      `{ plugin(idOrName: "orders-acl") { service { name } route { name service { name } } }
         service(idOrName: "orders") { plugins { totalCount data { instanceName } } }
         route(idOrName: "orders-r") { plugins { totalCount data { id } } } }`,
    );
    expect(linked.plugin).toEqual({
      service: { name: "orders" },
      route: { name: "orders-r", service: { name: "orders" } },
    });
    expect(linked.service.plugins).toEqual({ totalCount: 1, data: [{ instanceName: "orders-acl" }] });
    expect(linked.route.plugins).toEqual({ totalCount: 1, data: [{ id: made.id }] });
    // REST's nested list sees it too.
    const nested = (await rest(gw, "GET", "/services/orders/plugins")).body!.data as { id: string }[];
    expect(nested.map((p) => p.id)).toEqual([made.id]);
  });

  test("a plugin added over REST is read over GraphQL by id and by instance name", async () => {
    const created = await rest(gw, "POST", "/routes/orders-r/plugins", {
      name: "basic-auth",
      instance_name: "orders-basic",
      config: { hide_credentials: true },
    });
    expect(created.status).toBe(201);
    for (const key of ["orders-basic", created.body!.id as string]) {
      const { plugin } = await gqlData<{ plugin: Plugin }>(
        gw,
        `query($key: String!) { plugin(idOrName: $key) { id name config route { id } } }`,
        { key },
      );
      expect(plugin).toEqual({
        id: created.body!.id as string,
        name: "basic-auth",
        config: created.body!.config as Record<string, unknown>,
        route: { id: route.id },
      });
    }
    expect(await gqlData(gw, '{ plugin(idOrName: "no-such-plugin") { id } }')).toEqual({ plugin: null });
  });
});

describe("updatePlugin (PATCH)", () => {
  test("config is merged key by key: the other settings are kept; REST agrees", async () => {
    await addPlugin({
      name: "key-auth",
      instanceName: "merge-me",
      service: { id: service.id },
      config: { key_names: ["x-key"], key_in_query: false },
    });
    const { updatePlugin } = await gqlData<{ updatePlugin: Plugin }>(
      gw,
      'mutation { updatePlugin(idOrName: "merge-me", input: { config: { hide_credentials: true } }) { config service { id } } }',
    );
    expect(updatePlugin.config).toEqual({
      ...KEY_AUTH_DEFAULTS,
      key_names: ["x-key"],
      key_in_query: false,
      hide_credentials: true,
    });
    expect(updatePlugin.service).toEqual({ id: service.id });
    expect((await rest(gw, "GET", "/plugins/merge-me")).body!.config).toEqual(updatePlugin.config);
    // Arrays are replaced, not merged (Kong's merge_values).
    const replaced = await gqlData<{ updatePlugin: Partial<Plugin> }>(
      gw,
      'mutation { updatePlugin(idOrName: "merge-me", input: { config: { key_names: ["a", "b"] }, enabled: false }) { config enabled } }',
    );
    expect(replaced.updatePlugin).toEqual({
      config: { ...updatePlugin.config, key_names: ["a", "b"] },
      enabled: false,
    });
  });

  test("a bad setting is refused with its path under config; nothing changes", async () => {
    const before = (await rest(gw, "GET", "/plugins/merge-me")).body;
    const error = onlyError(
      await gql(
        gw,
        'mutation { updatePlugin(idOrName: "merge-me", input: { config: { key_in_body: 3 } }) { id } }',
      ),
    );
    expect(error.extensions).toEqual({
      code: 2,
      name: "schema violation",
      fields: { config: { key_in_body: "expected a boolean" } },
    });
    expect(error.message).toBe("schema violation (config.key_in_body: expected a boolean)");
    expect((await rest(gw, "GET", "/plugins/merge-me")).body).toEqual(before);
  });

  test("a missing plugin is code 6; a malformed instance name is code 10", async () => {
    expect(
      onlyError(
        await gql(gw, 'mutation { updatePlugin(idOrName: "ghost", input: { enabled: true }) { id } }'),
      ).extensions,
    ).toEqual({ code: 6, name: "not found", fields: { instanceName: "ghost" } });
    expect(
      onlyError(
        await gql(gw, 'mutation { updatePlugin(idOrName: "bad name", input: { enabled: true }) { id } }'),
      ).extensions,
    ).toEqual({ code: 10, name: "invalid unique instance_name" });
  });
});

describe("upsertPlugin (PUT) and deletePlugin", () => {
  test("creates by instance name, then replaces: config back to defaults, the key wins", async () => {
    const first = await gqlData<{ upsertPlugin: Plugin }>(
      gw,
      'mutation { upsertPlugin(idOrName: "put-me", input: { name: "key-auth", config: { hide_credentials: true }, tags: ["a"] }) { id instanceName config tags } }',
    );
    expect(first.upsertPlugin).toMatchObject({
      instanceName: "put-me",
      config: { ...KEY_AUTH_DEFAULTS, hide_credentials: true },
      tags: ["a"],
    });
    const second = await gqlData<{ upsertPlugin: Plugin }>(
      gw,
      'mutation { upsertPlugin(idOrName: "put-me", input: { name: "key-auth", instanceName: "ignored", config: { key_names: ["k"] } }) { id instanceName config tags } }',
    );
    expect(second.upsertPlugin).toEqual({
      id: first.upsertPlugin.id,
      instanceName: "put-me",
      config: { ...KEY_AUTH_DEFAULTS, key_names: ["k"] },
      tags: null,
    });
    const id = "5a1f7b8e-6c3d-4e2f-9a0b-1c2d3e4f5a6b";
    const byId = await gqlData<{ upsertPlugin: Partial<Plugin> }>(
      gw,
      `mutation { upsertPlugin(idOrName: "${id}", input: { name: "jwt", route: { name: "orders-r" } }) { id route { id } } }`,
    );
    expect(byId.upsertPlugin).toEqual({ id, route: { id: route.id } });
    expect(
      onlyError(
        await gql(gw, 'mutation { upsertPlugin(idOrName: "put-me", input: { name: "nope" }) { id } }'),
      ).extensions?.code,
    ).toBe(2);
  });

  test("deletePlugin answers the id, then null; REST no longer finds it", async () => {
    const gone = await gqlData<{ deletePlugin: string | null }>(
      gw,
      'mutation { deletePlugin(idOrName: "put-me") }',
    );
    expect(gone.deletePlugin).toMatch(/^[0-9a-f-]{36}$/);
    expect((await rest(gw, "GET", "/plugins/put-me")).status).toBe(404);
    expect(await gqlData(gw, 'mutation { deletePlugin(idOrName: "put-me") }')).toEqual({
      deletePlugin: null,
    });
  });
});

describe("validation errors: Kong codes, config paths in the plugin's own keys", () => {
  test("an unknown plugin name", async () => {
    const message =
      "plugin 'rate-limiting-xl' not enabled; bundled plugins: acl, basic-auth, correlation-id, cors, file-log, http-log, ip-restriction, jwt, key-auth, prometheus, proxy-cache, rate-limiting, request-size-limiting, request-termination, request-transformer, response-transformer";
    const error = await addPluginError({ name: "rate-limiting-xl" });
    expect(error.extensions).toEqual({ code: 2, name: "schema violation", fields: { name: message } });
    expect(error.message).toBe(`schema violation (name: ${message})`);
    expect((await addPluginError({})).extensions?.fields).toEqual({ name: "required field missing" });
  });

  test("config errors keep the plugin's snake_case keys, arrays per index, unknown settings named", async () => {
    const error = await addPluginError({
      name: "key-auth",
      instanceName: "ok-name",
      config: { key_names: ["ok", "bad name"], hide_credentials: "yes", nope: 1 },
    });
    expect(error.extensions).toEqual({
      code: 2,
      name: "schema violation",
      fields: {
        config: {
          key_names: [null, "bad header name, allowed characters are A-Z, a-z, 0-9, '_', and '-'"],
          hide_credentials: "expected a boolean",
          nope: "unknown field",
        },
      },
    });
    expect(error.message).toStartWith("3 schema violations (config.hide_credentials: expected a boolean;");
    // The plugin's own fields are camelCase like every other entity's (the config is checked after them).
    expect((await addPluginError({ name: "key-auth", instanceName: "bad name" })).extensions?.fields).toEqual(
      {
        instanceName:
          "invalid value 'bad name': the only accepted ascii characters are alphanumerics or ., -, _, and ~",
      },
    );
    expect((await addPluginError({ name: "jwt", config: "x" })).extensions?.fields).toEqual({
      config: "expected a record",
    });
    expect(
      (await addPluginError({ name: "jwt", config: { claims_to_verify: ["iat"] } })).extensions?.fields,
    ).toEqual({ config: { claims_to_verify: ["expected one of: exp, nbf"] } });
  });

  test("acl's entity checks name config.allow / config.deny", async () => {
    const error = await addPluginError({ name: "acl", config: { allow: ["a"], deny: ["b"] } });
    expect(error.extensions?.fields).toEqual({
      "@entity": ["exactly one of these fields must be non-empty: 'config.allow', 'config.deny'"],
    });
  });

  test("authentication plugins cannot be scoped to a consumer, by id or username", async () => {
    await rest(gw, "POST", "/consumers", { username: "carol" });
    for (const consumer of [{ username: "carol" }, { username: "nobody" }])
      expect((await addPluginError({ name: "key-auth", consumer })).extensions).toEqual({
        code: 2,
        name: "schema violation",
        fields: { consumer: "value must be null" },
      });
  });

  test("one plugin of a name per scope: code 5 with Kong's fields", async () => {
    const error = await addPluginError({
      name: "acl",
      route: { id: route.id },
      service: { name: "orders" },
      config: { deny: ["x"] },
    });
    expect(error.extensions).toEqual({
      code: 5,
      name: "unique constraint violation",
      fields: { consumer: null, name: "acl", route: { id: route.id }, service: { id: service.id } },
    });
    // The same name on the route alone is another scope.
    const routeOnly = await addPlugin({ name: "acl", route: { id: route.id }, config: { deny: ["x"] } });
    await gqlData(gw, `mutation { deletePlugin(idOrName: "${routeOnly.id}") }`);
  });

  test("a missing service: code 4 by id, code 13 by name", async () => {
    const ghost = "00000000-0000-4000-8000-00000000dead";
    expect((await addPluginError({ name: "jwt", service: { id: ghost } })).extensions).toEqual({
      code: 4,
      name: "foreign key violation",
      fields: { service: { id: ghost } },
    });
    const byName = await addPluginError({ name: "jwt", route: { name: "no-route" } });
    expect(byName.extensions?.code).toBe(13);
    expect(byName.extensions?.fields).toEqual({
      route: {
        name: "the foreign key cannot be resolved with '{name=\"no-route\"}' for an existing 'routes' entity",
      },
    });
  });

  test("plugin(idOrName) with a malformed instance name is code 10, like REST", async () => {
    const result = await gql(gw, '{ plugin(idOrName: "bad name") { id } }');
    expect(onlyError(result).extensions).toMatchObject({ code: 10, name: "invalid unique instance_name" });
    const viaRest = await rest(gw, "GET", "/plugins/bad%20name");
    expect(viaRest.body).toMatchObject({ code: 10, name: "invalid unique instance_name" });
  });
});

describe("queries", () => {
  test("plugins pages like REST, with tag filters and totalCount", async () => {
    for (const [name, tags] of [
      ["basic-auth", ["p1", "shared"]],
      ["jwt", ["p2", "shared"]],
    ] as const)
      await addPlugin({ name, tags: [...tags] });
    const all = (await rest(gw, "GET", "/plugins")).body!.data as { id: string }[];
    const seen: string[] = [];
    let offset: string | null = null;
    do {
      const page: { plugins: { data: { id: string }[]; offset: string | null; totalCount: number } } =
        await gqlData(
          gw,
          "query($offset: String) { plugins(size: 2, offset: $offset) { data { id } offset totalCount } }",
          {
            offset,
          },
        );
      expect(page.plugins.totalCount).toBe(all.length);
      seen.push(...page.plugins.data.map((p) => p.id));
      offset = page.plugins.offset;
    } while (offset);
    expect(seen).toEqual(all.map((p) => p.id));
    const tagged = await gqlData<{ plugins: { totalCount: number; data: { name: string }[] } }>(
      gw,
      '{ plugins(tags: ["p1", "p2"], tagsMode: OR) { totalCount data { name } } }',
    );
    expect(tagged.plugins.totalCount).toBe(2);
    expect(tagged.plugins.data.map((p) => p.name).sort()).toEqual(["basic-auth", "jwt"]);
  });

  test("enabledPlugins and pluginSchema match REST's /plugins/enabled and /schemas/plugins/{name}/json-schema", async () => {
    const data = await gqlData<{
      enabledPlugins: string[];
      pluginSchema: { name: string; priority: number; version: string; config: unknown };
      missing: null;
    }>(
      gw,
      '{ enabledPlugins pluginSchema(name: "key-auth") { name priority version config } missing: pluginSchema(name: "nope") { name } }',
    );
    expect(data.enabledPlugins).toEqual(
      (await rest(gw, "GET", "/plugins/enabled")).body!.enabled_plugins as string[],
    );
    expect(data.pluginSchema).toEqual(
      (await rest(gw, "GET", "/schemas/plugins/key-auth/json-schema")).body as never,
    );
    expect(data.missing).toBeNull();
  });
});

describe("cascades, seen through GraphQL", () => {
  test("deleting a route removes its plugins; deleting a service removes its plugins", async () => {
    await rest(gw, "POST", "/services", { name: "short-lived", url: "http://127.0.0.1:9" });
    await rest(gw, "POST", "/services/short-lived/routes", { name: "short-r", paths: ["/short"] });
    const onRoute = await addPlugin({ name: "key-auth", route: { name: "short-r" } });
    const onService = await addPlugin({ name: "key-auth", service: { name: "short-lived" } });
    expect(await gqlData(gw, 'mutation { deleteRoute(idOrName: "short-r") }')).toMatchObject({
      deleteRoute: expect.any(String),
    });
    const afterRoute = await gqlData<{ a: null; b: { id: string } }>(
      gw,
      `{ a: plugin(idOrName: "${onRoute.id}") { id } b: plugin(idOrName: "${onService.id}") { id } }`,
    );
    expect(afterRoute).toEqual({ a: null, b: { id: onService.id } });
    await gqlData(gw, 'mutation { deleteService(idOrName: "short-lived") }');
    expect(await gqlData(gw, `{ plugin(idOrName: "${onService.id}") { id } }`)).toEqual({ plugin: null });
  });
});
