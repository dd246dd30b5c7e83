// Node endpoints (GET /, GET /status), the configuration version and change events every write emits,
// concurrency (no 5xx, exactly one winner per name) and persistence across a restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "../../src/runtime/version.ts";
import type { ChangeEvent } from "../../src/store/contract.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { TEST_STORE } from "../support/postgres.ts";
import {
  call,
  createRoute,
  createService,
  nowSeconds,
  type Reply,
  UUID,
  uniqueViolation,
} from "./helpers.ts";

describe("GET / and GET /status", () => {
  let tg: TestGateway;
  beforeAll(async () => {
    tg = await startTestGateway();
  });
  afterAll(() => tg.stop());

  test("GET /status on a fresh node", async () => {
    const res = await call(tg, "/status");
    expect(res.status).toBe(200);
    const { memory } = res.body;
    expect(Number.isInteger(memory.rss_bytes) && memory.rss_bytes > 0).toBe(true);
    expect(Number.isInteger(memory.heap_used_bytes) && memory.heap_used_bytes > 0).toBe(true);
    expect(res.body).toEqual({
      configuration_faults: [],
      database: { reachable: true },
      configuration_version: 0,
      proxy_configuration_version: 0,
      server: {
        connections_active: 0,
        proxy_requests_active: 0,
        admin_requests_active: 0,
        total_requests: 1,
        proxy_requests_total: 0,
        admin_requests_total: 1,
      },
      memory,
    });
  });

  test("GET /status follows writes, the proxy's version and traffic", async () => {
    await createService(tg, { name: "status-svc", host: "a.example" });
    await createRoute(tg, { paths: ["/status-route"], service: { name: "status-svc" } });
    await tg.gateway.synced();
    const proxied = await tg.proxy("/nothing-here");
    await proxied.arrayBuffer();
    const res = await call(tg, "/status");
    expect(res.body).toEqual({
      configuration_faults: [],
      database: { reachable: true },
      configuration_version: 2,
      proxy_configuration_version: 2,
      server: {
        connections_active: 0,
        proxy_requests_active: 0,
        admin_requests_active: 0,
        total_requests: 5,
        proxy_requests_total: 1,
        admin_requests_total: 4,
      },
      memory: res.body.memory,
    });
  });

  test("GET / describes the node in Kong's shape", async () => {
    const before = nowSeconds();
    const res = await call(tg, "/");
    expect(res.status).toBe(200);
    expect(res.body.node_id).toMatch(UUID);
    expect(Number.isInteger(res.body.started_at)).toBe(true);
    expect(res.body.started_at).toBeLessThanOrEqual(before);
    expect(res.body).toEqual({
      tagline: "Welcome to portico",
      version: VERSION,
      edition: "community",
      hostname: hostname(),
      node_id: res.body.node_id,
      started_at: res.body.started_at,
      plugins: { available_on_server: res.body.plugins.available_on_server, enabled_in_cluster: [] },
      configuration: {
        proxy_listen: [address(tg.proxyUrl)],
        admin_listen: [address(tg.adminUrl)],
        status_listen: ["off"],
        proxy_listeners: [kongListener(tg.proxyUrl)],
        admin_listeners: [kongListener(tg.adminUrl)],
        status_listeners: [],
        database: TEST_STORE,
        database_location: tg.databasePath,
        service_management: true,
      },
    });
    // the node id is stable for the life of the process
    expect((await call(tg, "/")).body.node_id).toBe(res.body.node_id);
  });

  test("GET / lists every bundled plugin with its version and priority, as Kong's available_on_server", async () => {
    const { available_on_server } = (await call(tg, "/")).body.plugins;
    const bundled: string[] = (await call(tg, "/plugins/enabled")).body.enabled_plugins;
    expect(Object.keys(available_on_server)).toEqual(bundled);
    for (const name of bundled) {
      const { version, priority } = (await call(tg, `/schemas/plugins/${name}/json-schema`)).body;
      expect({ name, ...available_on_server[name] }).toEqual({ name, version, priority });
    }
    // Kong's own priorities for the authentication plugins (their handlers' PRIORITY).
    expect(available_on_server).toMatchObject({
      jwt: { version: "1.0.0", priority: 1450 },
      "key-auth": { version: "1.0.0", priority: 1250 },
      "basic-auth": { version: "1.0.0", priority: 1100 },
      acl: { version: "1.0.0", priority: 950 },
    });
  });

  test("GET / lists each configured plugin once, enabled or not, as Kong's enabled_in_cluster", async () => {
    const svc = await createService(tg, { name: "node-plugins", host: "a.example" });
    const add = (path: string, body: Record<string, unknown>) =>
      call(tg, path, { method: "POST", body }).then((r) => expect(r.status).toBe(201));
    await add("/plugins", { name: "key-auth" });
    await add(`/services/${svc.id}/plugins`, { name: "key-auth" });
    await add("/plugins", { name: "acl", enabled: false, config: { allow: ["a"] } });
    const { enabled_in_cluster } = (await call(tg, "/")).body.plugins;
    expect([...enabled_in_cluster].sort()).toEqual(["acl", "key-auth"]);
    await call(tg, `/services/${svc.id}`, { method: "DELETE" });
    const plugins = (await call(tg, "/plugins")).body.data as { id: string }[];
    for (const plugin of plugins) await call(tg, `/plugins/${plugin.id}`, { method: "DELETE" });
    expect((await call(tg, "/")).body.plugins.enabled_in_cluster).toEqual([]);
  });

  test("GET / with service management off says so", async () => {
    const off = await startTestGateway(["--no-service-management"]);
    try {
      const res = await call(off, "/");
      expect(res.body.configuration).toEqual({
        proxy_listen: [address(off.proxyUrl)],
        admin_listen: [address(off.adminUrl)],
        status_listen: ["off"],
        proxy_listeners: [kongListener(off.proxyUrl)],
        admin_listeners: [kongListener(off.adminUrl)],
        status_listeners: [],
        database: TEST_STORE,
        database_location: off.databasePath,
        service_management: false,
      });
    } finally {
      await off.stop();
    }
  });
});

describe("GET / with proxy workers", () => {
  test("workers share the proxy port through SO_REUSEPORT, which the listener says as Kong does", async () => {
    const pooled = await startTestGateway(["--workers", "2"]);
    try {
      const { configuration } = (await call(pooled, "/")).body;
      const address = new URL(pooled.proxyUrl).host;
      expect(configuration.proxy_listen).toEqual([`${address} reuseport`]);
      expect(configuration.proxy_listeners).toEqual([
        { ...kongListener(pooled.proxyUrl), reuseport: true, listener: `${address} reuseport` },
      ]);
      expect(configuration.admin_listeners).toEqual([kongListener(pooled.adminUrl)]);
    } finally {
      await pooled.stop();
    }
  });
});

describe("GET / with a status listener", () => {
  test("status_listen and status_listeners name it, as Kong's", async () => {
    const withStatus = await startTestGateway(["--status-listen", "127.0.0.1:0"]);
    try {
      const { configuration } = (await call(withStatus, "/")).body;
      const [listener] = configuration.status_listeners;
      expect(listener).toEqual(kongListener(`http://127.0.0.1:${listener.port}`));
      expect(configuration.status_listen).toEqual([`127.0.0.1:${listener.port}`]);
      const status = await fetch(`http://127.0.0.1:${listener.port}/status`);
      expect(status.status).toBe(200);
      await status.arrayBuffer();
    } finally {
      await withStatus.stop();
    }
  });
});

describe("GET / on an IPv6 listener", () => {
  test("the address is bracketed, as Kong writes it", async () => {
    const v6 = await startTestGateway(["--admin-listen", "[::1]:0"]);
    try {
      const { configuration } = (await call(v6, "/")).body;
      const port = Number(new URL(v6.adminUrl).port);
      expect(configuration.admin_listen).toEqual([`[::1]:${port}`]);
      expect(configuration.admin_listeners).toEqual([kongListener(v6.adminUrl)]);
      expect(configuration.admin_listeners[0]).toMatchObject({
        ip: "[::1]",
        port,
        listener: `[::1]:${port}`,
      });
    } finally {
      await v6.stop();
    }
  });
});

/** `http://127.0.0.1:1234` → `127.0.0.1:1234`, Kong's `*_listen` entry. */
function address(url: string): string {
  return new URL(url).host;
}

/** A plain HTTP listener as Kong renders it (kong/conf_loader/listeners.lua): every flag false. */
function kongListener(url: string) {
  const { hostname: ip, port } = new URL(url);
  return {
    ip,
    port: Number(port),
    listener: `${ip}:${port}`,
    ssl: false,
    http2: false,
    proxy_protocol: false,
    deferred: false,
    bind: false,
    reuseport: false,
    "backlog=%d+": false,
    "ipv6only=on": false,
    "ipv6only=off": false,
    "so_keepalive=on": false,
    "so_keepalive=off": false,
    "so_keepalive=%w*:%w*:%d*": false,
  };
}

describe("configuration version and change events", () => {
  let tg: TestGateway;
  let events: ChangeEvent[] = [];
  let unsubscribe: () => void;
  beforeAll(async () => {
    tg = await startTestGateway();
    unsubscribe = tg.gateway.store.subscribe((e) => events.push(e));
  });
  afterAll(async () => {
    unsubscribe();
    await tg.stop();
  });

  /** Runs one admin call and returns the events it emitted; checks the version moved once per event. */
  async function expectEvents(
    path: string,
    init: Parameters<typeof call>[2],
    status: number,
  ): Promise<{ body: Reply["body"]; events: ChangeEvent[] }> {
    const version = await tg.gateway.store.configVersion();
    events = [];
    const res = await call(tg, path, init);
    expect({ path, status: res.status }).toEqual({ path, status });
    const emitted = events;
    expect(emitted.map((e) => e.version)).toEqual(emitted.map((_, i) => version + i + 1));
    expect(await tg.gateway.store.configVersion()).toBe(version + emitted.length);
    const statusBody = (await call(tg, "/status")).body;
    expect(statusBody.configuration_version).toBe(version + emitted.length);
    return { body: res.body, events: emitted };
  }

  test("every kind of write emits exactly its events", async () => {
    const svc = await expectEvents(
      "/services",
      { method: "POST", body: { name: "ev", host: "a.example" } },
      201,
    );
    const sid = svc.body.id;
    expect(svc.events).toEqual([
      { entity: "services", action: "create", id: sid, version: svc.events[0]!.version },
    ]);

    const patch = await expectEvents("/services/ev", { method: "PATCH", body: { port: 81 } }, 200);
    expect(patch.events.map(({ entity, action, id }) => ({ entity, action, id }))).toEqual([
      { entity: "services", action: "update", id: sid },
    ]);

    const replace = await expectEvents("/services/ev", { method: "PUT", body: { host: "b.example" } }, 200);
    expect(replace.events.map((e) => [e.entity, e.action, e.id])).toEqual([["services", "update", sid]]);

    const upsertNew = await expectEvents(
      "/services/ev-new",
      { method: "PUT", body: { host: "c.example" } },
      200,
    );
    expect(upsertNew.events.map((e) => [e.entity, e.action, e.id])).toEqual([
      ["services", "create", upsertNew.body.id],
    ]);

    const rt = await expectEvents("/services/ev/routes", { method: "POST", body: { paths: ["/ev"] } }, 201);
    expect(rt.events.map((e) => [e.entity, e.action, e.id])).toEqual([["routes", "create", rt.body.id]]);

    const rpatch = await expectEvents(
      `/routes/${rt.body.id}`,
      { method: "PATCH", body: { methods: ["GET"] } },
      200,
    );
    expect(rpatch.events.map((e) => [e.entity, e.action, e.id])).toEqual([["routes", "update", rt.body.id]]);

    const viaRoute = await expectEvents(
      `/routes/${rt.body.id}/service`,
      { method: "PATCH", body: { retries: 1 } },
      200,
    );
    expect(viaRoute.events.map((e) => [e.entity, e.action, e.id])).toEqual([["services", "update", sid]]);

    const rdel = await expectEvents(`/routes/${rt.body.id}`, { method: "DELETE" }, 204);
    expect(rdel.events.map((e) => [e.entity, e.action, e.id])).toEqual([["routes", "delete", rt.body.id]]);

    const sdel = await expectEvents("/services/ev", { method: "DELETE" }, 204);
    expect(sdel.events.map((e) => [e.entity, e.action, e.id])).toEqual([["services", "delete", sid]]);
  });

  test("a route's PUT service on a route without one: a create and an update in one go", async () => {
    const orphan = await createRoute(tg, { paths: ["/orphan-ev"] });
    const put = await expectEvents(
      `/routes/${orphan.id}/service`,
      { method: "PUT", body: { host: "o.example" } },
      200,
    );
    expect(put.events.map((e) => [e.entity, e.action, e.id])).toEqual([
      ["services", "create", put.body.id],
      ["routes", "update", orphan.id],
    ]);
  });

  test("the seed URLs emit a service and a route together", async () => {
    const add = await expectEvents(
      "/service",
      { method: "POST", body: { domain: "http://127.0.0.1", name_service: "seed-ev", port: 9 } },
      201,
    );
    const svc = (await call(tg, "/services/seed-ev")).body;
    const rt = (await call(tg, "/routes/seed-ev")).body;
    expect(add.events.map((e) => [e.entity, e.action, e.id])).toEqual([
      ["services", "create", svc.id],
      ["routes", "create", rt.id],
    ]);
    const del = await expectEvents("/service?name_service=seed-ev", { method: "DELETE" }, 200);
    expect(del.events.map((e) => [e.entity, e.action, e.id])).toEqual([
      ["routes", "delete", rt.id],
      ["services", "delete", svc.id],
    ]);
  });

  test("reads, refusals and deletes of nothing emit nothing", async () => {
    await createService(tg, { name: "quiet", host: "a.example" });
    for (const [path, init, status] of [
      ["/services", undefined, 200],
      ["/services/quiet", undefined, 200],
      ["/services/missing", { method: "DELETE" }, 204],
      ["/services", { method: "POST", body: { name: "quiet", host: "a.example" } }, 409],
      ["/services/quiet", { method: "PATCH", body: { port: -1 } }, 400],
      ["/services/missing", { method: "PATCH", body: { port: 1 } }, 404],
      ["/service", { method: "POST", body: { domain: "127.0.0.1", name_service: "x" } }, 400],
      ["/service?name_service=missing", { method: "DELETE" }, 404],
    ] as const) {
      const { events: emitted } = await expectEvents(path, init, status);
      expect({ path, emitted }).toEqual({ path, emitted: [] });
    }
  });

  test("the proxy catches up with the store's version", async () => {
    await tg.gateway.synced();
    const res = await call(tg, "/status");
    expect(res.body.proxy_configuration_version).toBe(res.body.configuration_version);
  });
});

describe("concurrency", () => {
  let tg: TestGateway;
  beforeAll(async () => {
    tg = await startTestGateway();
  });
  afterAll(() => tg.stop());

  test("200 concurrent creates: each 201 or 409, never 5xx; one row per name", async () => {
    // 150 distinct names, 50 of them sent twice
    const names = Array.from({ length: 200 }, (_, i) => `burst-${i % 150}`);
    const replies = await Promise.all(
      names.map((name) => call(tg, "/services", { method: "POST", body: { name, host: "a.example" } })),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBe(150);
    expect(statuses.filter((s) => s === 409).length).toBe(50);
    for (const [i, r] of replies.entries())
      if (r.status === 409) expect(r.body).toEqual(uniqueViolation(names[i]!));
    const list = await call(tg, "/services?size=1000");
    expect(list.body.data.length).toBe(150);
    expect(new Set(list.body.data.map((s: { name: string }) => s.name)).size).toBe(150);
  });

  test("40 concurrent creates of one name: exactly one 201", async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(tg, "/services", { method: "POST", body: { name: "the-one", host: `h${i}.example` } }),
      ),
    );
    const winners = replies.filter((r) => r.status === 201);
    expect(winners.length).toBe(1);
    for (const r of replies.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body).toEqual(uniqueViolation("the-one"));
    }
    expect((await call(tg, "/services/the-one")).body).toEqual(winners[0]!.body);
  });

  test("40 concurrent PUTs of one name: all 200, one row with one id", async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(tg, "/services/put-race", { method: "PUT", body: { host: `h${i}.example` } }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
  });

  test("concurrent route creates and PATCHes on one service never fail", async () => {
    const svc = await createService(tg, { name: "busy", host: "a.example" });
    const replies = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) =>
        call(tg, "/services/busy/routes", { method: "POST", body: { paths: [`/busy-${i}`] } }),
      ),
      ...Array.from({ length: 50 }, (_, i) =>
        call(tg, "/services/busy", { method: "PATCH", body: { retries: i } }),
      ),
    ]);
    expect(replies.slice(0, 50).map((r) => r.status)).toEqual(Array(50).fill(201));
    expect(replies.slice(50).map((r) => r.status)).toEqual(Array(50).fill(200));
    const routes = await call(tg, `/services/${svc.id}/routes?size=1000`);
    expect(routes.body.data.length).toBe(50);
  });
});

describe("restart persistence", () => {
  test("a new gateway on the same database file serves the same data and version", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portico-admin-restart-"));
    const database = join(dir, "portico.db");
    try {
      const first = await startTestGateway([], database);
      let services: unknown;
      let routes: unknown;
      let version: number;
      try {
        const svc = await createService(first, { name: "durable", host: "a.example", tags: ["keep"] });
        await createRoute(first, { name: "durable-route", paths: ["/d"], service: { id: svc.id } });
        await call(first, "/services/durable", { method: "PATCH", body: { port: 8080 } });
        await call(first, "/service", {
          method: "POST",
          body: { domain: "http://127.0.0.1", name_service: "durable-seed", port: 9 },
        });
        services = (await call(first, "/services")).body;
        routes = (await call(first, "/routes")).body;
        version = await first.gateway.store.configVersion();
        expect(version).toBe(5);
      } finally {
        await first.stop();
      }
      const second = await startTestGateway([], database);
      try {
        expect((await call(second, "/services")).body).toEqual(services);
        expect((await call(second, "/routes")).body).toEqual(routes);
        expect((await call(second, "/services/durable")).body.port).toBe(8080);
        expect((await call(second, "/status")).body.configuration_version).toBe(version);
        // the proxy starts on the stored configuration
        expect(second.gateway.servedVersion()).toBe(version);
        await createService(second, { name: "after-restart", host: "a.example" });
        expect(await second.gateway.store.configVersion()).toBe(version + 1);
        const dup = await call(second, "/services", {
          method: "POST",
          body: { name: "durable", host: "x.example" },
        });
        expect(dup.status).toBe(409);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
