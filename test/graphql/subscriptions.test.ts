// Subscriptions over server-sent events (yoga) and WebSocket (graphql-ws), fed by writes made through REST.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Client, createClient } from "graphql-ws";
import { MAX_OPERATIONS_PER_SOCKET } from "../../src/admin/graphql/index.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { gqlData, rest } from "./support.ts";

let gw: TestGateway;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  gw = await startTestGateway();
  upstream = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
});

afterAll(async () => {
  await gw.stop();
  upstream.stop(true);
});

type ConfigEvent = { entity: string; action: string; id: string; version: number };

/** An SSE subscription: its events as they arrive, and a way to wait for the next ones. */
async function subscribeSse<T>(query: string) {
  const controller = new AbortController();
  const response = await fetch(`${gw.adminUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ query }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const events: T[] = [];
  const waiters: (() => void)[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      const reader = response.body!.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += decoder.decode(chunk.value, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("\n");
          if (block.includes("event: next") && data) {
            const payload = JSON.parse(data) as { data: Record<string, T> };
            events.push(Object.values(payload.data)[0]!);
            for (const wake of waiters.splice(0)) wake();
          }
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {}
  })();
  return {
    events,
    async waitFor(count: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} events, got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return events;
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}

/** Writes until the subscription has seen one event, so the next writes are certain to be delivered. */
async function warmUp(sub: { events: unknown[]; waitFor(n: number, t?: number): Promise<unknown[]> }) {
  for (let i = 0; sub.events.length === 0; i++) {
    await rest(gw, "PUT", `/services/warm-up-${crypto.randomUUID().slice(0, 8)}`, { host: "w" });
    await sub.waitFor(1, 100).catch(() => {});
    if (i > 50) throw new Error("subscription never started");
  }
  return sub.events.length;
}

describe("configChanged over server-sent events", () => {
  test("receives create, update and delete events for writes made through REST", async () => {
    const sub = await subscribeSse<ConfigEvent>(
      "subscription { configChanged { entity action id version } }",
    );
    try {
      const seen = await warmUp(sub);
      const created = await rest(gw, "POST", "/services", { name: "sse-svc", url: "http://127.0.0.1:9" });
      const route = await rest(gw, "POST", "/services/sse-svc/routes", { paths: ["/sse"] });
      await rest(gw, "PATCH", "/services/sse-svc", { retries: 1 });
      await rest(gw, "DELETE", `/routes/${route.body!.id}`);
      const events = (await sub.waitFor(seen + 4)).slice(seen);
      expect(events.map(({ entity, action, id }) => ({ entity, action, id }))).toEqual([
        { entity: "services", action: "create", id: created.body!.id as string },
        { entity: "routes", action: "create", id: route.body!.id as string },
        { entity: "services", action: "update", id: created.body!.id as string },
        { entity: "routes", action: "delete", id: route.body!.id as string },
      ]);
      // Versions are the store's, strictly increasing, and the last one is the current version.
      const versions = events.map((e) => e.version);
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      expect(new Set(versions).size).toBe(4);
      const status = (await rest(gw, "GET", "/status")).body!;
      expect(JSON.stringify(status)).toContain(String(versions[3]));
    } finally {
      await sub.close();
    }
  });

  test("filters by entity kind", async () => {
    const sub = await subscribeSse<Pick<ConfigEvent, "entity" | "action">>(
      "subscription { configChanged(entities: [routes]) { entity action } }",
    );
    try {
      // Warm up with route writes (service writes are filtered out).
      await rest(gw, "PUT", "/services/filter-svc", { host: "f" });
      for (let i = 0; sub.events.length === 0 && i < 50; i++) {
        await rest(gw, "POST", "/services/filter-svc/routes", { paths: [`/warm${i}`] });
        await sub.waitFor(1, 100).catch(() => {});
      }
      const seen = sub.events.length;
      await rest(gw, "PATCH", "/services/filter-svc", { retries: 2 });
      await rest(gw, "POST", "/services/filter-svc/routes", { paths: ["/counted"] });
      const events = (await sub.waitFor(seen + 1)).slice(seen);
      expect(events).toEqual([{ entity: "routes", action: "create" }]);
    } finally {
      await sub.close();
    }
  });
});

describe("client hang-up", () => {
  test("a subscriber that disconnects ends its request on the server (no longer counted as active)", async () => {
    const active = async () => {
      const result = await fetch(`${gw.adminUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ status { traffic { active { admin } } } }" }),
      });
      const body = (await result.json()) as { data: { status: { traffic: { active: { admin: number } } } } };
      return body.data.status.traffic.active.admin;
    };
    const before = await active();
    const sub = await subscribeSse<ConfigEvent>("subscription { configChanged { id } }");
    expect(await active()).toBe(before + 1);
    await sub.close();
    const deadline = Date.now() + 3000;
    while ((await active()) !== before && Date.now() < deadline) await Bun.sleep(20);
    expect(await active()).toBe(before);
  });
});

describe("serviceHealth", () => {
  test("streams each probe of the seed's PATCH /services and of refreshServices", async () => {
    await rest(gw, "PUT", "/services/probe-me", { url: `http://127.0.0.1:${upstream.port}/` });
    const sub = await subscribeSse<{ name: string; up: boolean; status: number | null }>(
      "subscription { serviceHealth { name up status } }",
    );
    try {
      // The health feed has no warm-up write of its own: refresh until the first result arrives.
      for (let i = 0; sub.events.length === 0 && i < 50; i++) {
        await rest(gw, "PATCH", "/services");
        await sub.waitFor(1, 200).catch(() => {});
      }
      const enabled = ((await rest(gw, "GET", "/services?size=1000")).body!.data as unknown[]).length;
      const seen = sub.events.length;
      const refreshed = await fetch(`${gw.adminUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "mutation { refreshServices { name } }" }),
      });
      expect(refreshed.status).toBe(200);
      const events = (await sub.waitFor(seen + enabled)).slice(seen);
      expect(events.find((e) => e.name === "probe-me")).toEqual({ name: "probe-me", up: true, status: 200 });
    } finally {
      await sub.close();
    }
  });
});

describe("graphql-ws over WebSocket", () => {
  const wsUrl = () => `${gw.adminUrl.replace("http", "ws")}/graphql`;
  let client: Client;

  beforeAll(() => {
    client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  });

  afterAll(() => client.dispose());

  test("a subscription receives events for writes made through REST", async () => {
    const events: ConfigEvent[] = [];
    let failure: unknown;
    const unsubscribe = client.subscribe<{ configChanged: ConfigEvent }>(
      { query: "subscription { configChanged { entity action id version } }" },
      {
        next: (result) => {
          if (result.data) events.push(result.data.configChanged);
        },
        error: (error) => {
          failure = error;
        },
        complete: () => {},
      },
    );
    try {
      for (let i = 0; events.length === 0 && i < 50; i++) {
        await rest(gw, "PUT", `/services/ws-warm-${i}`, { host: "w" });
        await Bun.sleep(50);
      }
      expect(failure).toBeUndefined();
      const seen = events.length;
      const created = await rest(gw, "POST", "/services", { name: "ws-svc", host: "ws.example" });
      const deadline = Date.now() + 5000;
      while (events.length <= seen && Date.now() < deadline) await Bun.sleep(20);
      expect(events[seen]).toMatchObject({ entity: "services", action: "create", id: created.body!.id });
    } finally {
      unsubscribe();
    }
  });

  test("queries work over the socket; mutations are refused (they must be POSTed)", async () => {
    const query = await new Promise<unknown>((resolve, reject) =>
      client.subscribe(
        { query: '{ service(idOrName: "ws-svc") { name } }' },
        { next: resolve, error: reject, complete: () => {} },
      ),
    );
    expect(query).toEqual({ data: { service: { name: "ws-svc" } } });
    const mutation = await new Promise<unknown>((resolve) =>
      client.subscribe(
        { query: 'mutation { deleteService(idOrName: "ws-svc") }' },
        { next: resolve, error: resolve, complete: () => {} },
      ),
    );
    // Refused before it runs (yoga's own GET rule sees the upgrade request; ours would catch it otherwise).
    expect(JSON.stringify(mutation)).toMatch(
      /mutation operation from a POST request|accepted only over POST/,
    );
    expect((await rest(gw, "GET", "/services/ws-svc")).status).toBe(200);
  });

  test("a page of another site cannot open the socket (cross-site WebSocket hijacking)", async () => {
    const socket = new WebSocket(wsUrl(), {
      protocols: ["graphql-transport-ws"],
      headers: { origin: "http://evil.example" },
    } as unknown as string[]);
    const outcome = await new Promise<string>((resolve) => {
      socket.onopen = () => resolve("open");
      socket.onerror = () => resolve("error");
      socket.onclose = () => resolve("closed");
    });
    expect(outcome).not.toBe("open");
    const sameSite = new WebSocket(wsUrl(), {
      protocols: ["graphql-transport-ws"],
      headers: { origin: gw.adminUrl },
    } as unknown as string[]);
    const ok = await new Promise<string>((resolve) => {
      sameSite.onopen = () => resolve("open");
      sameSite.onerror = () => resolve("error");
    });
    sameSite.close();
    expect(ok).toBe("open");
  });

  test("a socket without the graphql-transport-ws subprotocol is refused", async () => {
    const response = await fetch(`${gw.adminUrl}/graphql`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-protocol": "graphql-ws",
      },
    });
    expect(response.status).toBe(400);
  });
});

describe("shutdown", () => {
  test("a graceful stop ends open subscriptions (SSE and WebSocket) instead of waiting for them forever", async () => {
    const own = await startTestGateway();
    const sse = await fetch(`${own.adminUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: "subscription { configChanged { id } }" }),
    });
    expect(sse.status).toBe(200);
    const sseDone = sse.text();
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: `${own.adminUrl.replace("http", "ws")}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        on: { closed: (event) => resolve((event as CloseEvent).code) },
      });
      client.subscribe(
        { query: "subscription { serviceHealth { id } }" },
        { next() {}, error() {}, complete() {} },
      );
    });
    await Bun.sleep(200);
    const started = performance.now();
    await own.stop();
    expect(performance.now() - started).toBeLessThan(3000);
    await sseDone;
    expect(await closed).toBe(1001);
  });
});

describe("upstream health", () => {
  test("Upstream.health, and targetHealth streams each change as the node's checker decides it", async () => {
    await rest(gw, "POST", "/upstreams", {
      name: "gql-health.test",
      healthchecks: { passive: { unhealthy: { tcp_failures: 1 } } },
    });
    const target = `127.0.0.1:${upstream.port}`;
    await rest(gw, "POST", "/upstreams/gql-health.test/targets", { target });
    await gw.gateway.synced();
    type Change = { target: string; address: string; healthy: boolean; source: string; upstreamName: string };
    const sub = await subscribeSse<Change>(
      'subscription { targetHealth(upstream: "gql-health.test") { upstreamName target address healthy source } }',
    );
    try {
      // Until the subscription is live, flip the target; then one change more is certain to be delivered.
      for (let i = 0; sub.events.length === 0; i++) {
        await rest(gw, "PUT", `/upstreams/gql-health.test/targets/${target}/unhealthy`);
        await rest(gw, "PUT", `/upstreams/gql-health.test/targets/${target}/healthy`);
        await sub.waitFor(1, 100).catch(() => {});
        if (i > 50) throw new Error("subscription never started");
      }
      const before = sub.events.length;
      expect((await rest(gw, "PUT", `/upstreams/gql-health.test/targets/${target}/unhealthy`)).status).toBe(
        204,
      );
      // Events of the warm-up may still arrive first: the one wanted is the next "unhealthy".
      await sub.waitFor(before + 1);
      for (let i = 0; !sub.events.slice(before).some((e) => !e.healthy) && i < 100; i++)
        await sub.waitFor(sub.events.length + 1, 100).catch(() => {});
      expect(sub.events.slice(before).find((e) => !e.healthy)).toEqual({
        upstreamName: "gql-health.test",
        target,
        address: target,
        healthy: false,
        source: "manual",
      });
    } finally {
      await sub.close();
    }
    const { upstream: found } = await gqlData<{ upstream: { health: unknown } }>(
      gw,
      '{ upstream(idOrName: "gql-health.test") { health { health availableWeight totalWeight targets { target health addresses { ip port weight health } } } } }',
    );
    expect(found.health).toEqual({
      health: "UNHEALTHY",
      availableWeight: 0,
      totalWeight: 100,
      targets: [
        {
          target,
          health: "UNHEALTHY",
          addresses: [{ ip: "127.0.0.1", port: upstream.port, weight: 100, health: "UNHEALTHY" }],
        },
      ],
    });
  });
});

describe("WebSocket bounds", () => {
  test("one socket holds at most MAX_OPERATIONS_PER_SOCKET live operations", async () => {
    const client = createClient({
      url: `${gw.adminUrl.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const disposers: (() => void)[] = [];
    const refusals: unknown[] = [];
    try {
      for (let i = 0; i <= MAX_OPERATIONS_PER_SOCKET; i++)
        disposers.push(
          client.subscribe(
            { query: "subscription { configChanged { id } }" },
            { next() {}, error: (error) => refusals.push(error), complete() {} },
          ),
        );
      const deadline = Date.now() + 5000;
      while (refusals.length === 0 && Date.now() < deadline) await Bun.sleep(20);
      expect(refusals).toHaveLength(1);
      expect(JSON.stringify(refusals[0])).toContain(`At most ${MAX_OPERATIONS_PER_SOCKET} operations`);
    } finally {
      for (const dispose of disposers) dispose();
      await client.dispose();
    }
  });
});
