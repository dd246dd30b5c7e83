// End to end through GraphQL alone: a key-auth plugin and a key added over GraphQL protect a route on the
// proxy (real upstream on 127.0.0.1), an ACL narrows it, changes and revocations take effect; and
// `configChanged` delivers every consumer, credential and plugin write, cascades included.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Client, createClient } from "graphql-ws";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { gqlData } from "./support.ts";

let gw: TestGateway;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  gw = await startTestGateway();
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) =>
      Response.json({ path: new URL(request.url).pathname, headers: Object.fromEntries(request.headers) }),
  });
});

afterAll(async () => {
  await gw.stop();
  upstream.stop(true);
});

type Answer = { status: number; body: { message?: string; headers?: Record<string, string> } };

async function call(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  await gw.gateway.synced();
  const response = await gw.proxy(path, { headers });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

describe("a route protected through GraphQL", () => {
  test("key-auth plugin + consumer key: 401 without or with a wrong key, proxied with the right one", async () => {
    await gqlData(
      gw,
      `mutation {
        addService(input: { name: "vault", url: "http://127.0.0.1:${upstream.port}" }) { id }
        addRoute(input: { name: "vault-r", paths: ["/vault"], service: { name: "vault" } }) { id }
        addPlugin(input: { name: "key-auth", instanceName: "vault-keys", route: { name: "vault-r" },
                           config: { key_names: ["x-api-key"], hide_credentials: true } }) { id }
        addConsumer(input: { username: "grace", customId: "g-7" }) { id }
        addKeyAuth(consumer: "grace", input: { key: "grace-secret-key" }) { id }
      }`,
    );
    expect(await call("/vault")).toMatchObject({
      status: 401,
      body: { message: "No API key found in request" },
    });
    expect(await call("/vault", { "x-api-key": "nope" })).toMatchObject({
      status: 401,
      body: { message: "Invalid authentication credentials" },
    });
    const passed = await call("/vault", { "x-api-key": "grace-secret-key" });
    expect(passed.status).toBe(200);
    const { consumer } = await gqlData<{ consumer: { id: string } }>(
      gw,
      '{ consumer(idOrName: "grace") { id } }',
    );
    expect(passed.body.headers).toMatchObject({
      "x-consumer-id": consumer.id,
      "x-consumer-username": "grace",
      "x-consumer-custom-id": "g-7",
    });
    // hide_credentials: the key never reaches the upstream.
    expect(passed.body.headers!["x-api-key"]).toBeUndefined();
    // The other routes are not protected.
    await gqlData(
      gw,
      'mutation { addRoute(input: { paths: ["/open"], service: { name: "vault" } }) { id } }',
    );
    expect((await call("/open")).status).toBe(200);
  });

  test("updatePlugin merges config: a new key name works, hide_credentials is kept", async () => {
    const { updatePlugin } = await gqlData<{ updatePlugin: { config: Record<string, unknown> } }>(
      gw,
      'mutation { updatePlugin(idOrName: "vault-keys", input: { config: { key_names: ["apikey"] } }) { config } }',
    );
    expect(updatePlugin.config).toMatchObject({ key_names: ["apikey"], hide_credentials: true });
    expect((await call("/vault", { "x-api-key": "grace-secret-key" })).status).toBe(401);
    const passed = await call("/vault", { apikey: "grace-secret-key" });
    expect(passed.status).toBe(200);
    expect(passed.body.headers!.apikey).toBeUndefined();
  });

  test("an ACL added through GraphQL narrows the route to a group; adding the group opens it", async () => {
    await gqlData(
      gw,
      'mutation { addPlugin(input: { name: "acl", route: { name: "vault-r" }, config: { allow: ["gold"] } }) { id } }',
    );
    expect(await call("/vault", { apikey: "grace-secret-key" })).toMatchObject({
      status: 403,
      body: { message: "You cannot consume this service" },
    });
    await gqlData(gw, 'mutation { addAcl(consumer: "grace", input: { group: "gold" }) { id } }');
    expect((await call("/vault", { apikey: "grace-secret-key" })).status).toBe(200);
  });

  test("disabling key-auth lifts the key check (the ACL then refuses); deleting the key revokes it", async () => {
    await gqlData(gw, 'mutation { updatePlugin(idOrName: "vault-keys", input: { enabled: false }) { id } }');
    // No key-auth: no consumer is identified, so the ACL (which needs one) now refuses instead.
    expect((await call("/vault")).status).toBe(401);
    expect((await call("/vault")).body.message).not.toBe("No API key found in request");
    await gqlData(gw, 'mutation { updatePlugin(idOrName: "vault-keys", input: { enabled: true }) { id } }');
    expect((await call("/vault", { apikey: "grace-secret-key" })).status).toBe(200);
    expect(await gqlData(gw, 'mutation { deleteKeyAuth(idOrKey: "grace-secret-key") }')).toMatchObject({
      deleteKeyAuth: expect.any(String),
    });
    expect(await call("/vault", { apikey: "grace-secret-key" })).toMatchObject({
      status: 401,
      body: { message: "Invalid authentication credentials" },
    });
  });
});

type ConfigEvent = { entity: string; action: string; id: string };

describe("configChanged delivers consumer, credential and plugin writes", () => {
  let client: Client;

  beforeAll(() => {
    client = createClient({
      url: `${gw.adminUrl.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
  });

  afterAll(() => client.dispose());

  test("create, update and delete events, with the cascade of a consumer's deletion", async () => {
    const events: ConfigEvent[] = [];
    const unsubscribe = client.subscribe<{ configChanged: ConfigEvent }>(
      {
        query: `subscription { configChanged(entities: [consumers, plugins, keyauth_credentials,
          basicauth_credentials, jwt_secrets, acls]) { entity action id } }`,
      },
      {
        next: (result) => {
          if (result.data) events.push(result.data.configChanged);
        },
        error: () => {},
        complete: () => {},
      },
    );
    try {
      // Warm up until the subscription is live, so the writes below are certain to be delivered.
      for (let i = 0; events.length === 0; i++) {
        await gqlData(gw, `mutation { upsertConsumer(idOrName: "warm-${i}", input: {}) { id } }`);
        await Bun.sleep(50);
        if (i > 50) throw new Error("subscription never started");
      }
      const seen = events.length;
      const made = await gqlData<{
        addConsumer: { id: string };
        addKeyAuth: { id: string };
        addBasicAuth: { id: string };
        addJwtSecret: { id: string };
        addAcl: { id: string };
        addPlugin: { id: string };
        updatePlugin: { id: string };
        deleteConsumer: string;
      }>(
        gw,
        `mutation {
          addConsumer(input: { username: "heidi" }) { id }
          addKeyAuth(consumer: "heidi", input: { key: "heidi-key" }) { id }
          addBasicAuth(consumer: "heidi", input: { username: "heidi", password: "pw" }) { id }
          addJwtSecret(consumer: "heidi", input: {}) { id }
          addAcl(consumer: "heidi", input: { group: "g" }) { id }
          addPlugin(input: { name: "jwt", instanceName: "ev-jwt" }) { id }
          updatePlugin(idOrName: "ev-jwt", input: { config: { claims_to_verify: ["exp"] } }) { id }
          deleteConsumer(idOrName: "heidi")
        }`,
      );
      await gqlData(gw, 'mutation { deletePlugin(idOrName: "ev-jwt") }');
      const deadline = Date.now() + 5000;
      while (events.length < seen + 13 && Date.now() < deadline) await Bun.sleep(20);
      const got = events.slice(seen);
      const consumer = made.addConsumer.id;
      const credentials: [string, string][] = [
        ["keyauth_credentials", made.addKeyAuth.id],
        ["basicauth_credentials", made.addBasicAuth.id],
        ["jwt_secrets", made.addJwtSecret.id],
        ["acls", made.addAcl.id],
      ];
      expect(got.slice(0, 7)).toEqual([
        { entity: "consumers", action: "create", id: consumer },
        ...credentials.map(([entity, id]) => ({ entity, action: "create", id })),
        { entity: "plugins", action: "create", id: made.addPlugin.id },
        { entity: "plugins", action: "update", id: made.addPlugin.id },
      ]);
      // Deleting the consumer deletes its credentials first (one event each), then the consumer.
      const cascade = got.slice(7, 12);
      expect(cascade.at(-1)).toEqual({ entity: "consumers", action: "delete", id: consumer });
      expect(cascade.slice(0, 4).sort((a, b) => a.entity.localeCompare(b.entity))).toEqual(
        credentials
          .map(([entity, id]) => ({ entity, action: "delete", id }))
          .sort((a, b) => a.entity.localeCompare(b.entity)),
      );
      expect(got.slice(12)).toEqual([{ entity: "plugins", action: "delete", id: made.addPlugin.id }]);
    } finally {
      unsubscribe();
    }
  });
});
