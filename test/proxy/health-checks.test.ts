// Black-box: health checks and circuit breaking over real upstreams that the tests stop and start again —
// passive checks from proxied traffic (TCP failures, HTTP statuses), active probes that bring a target back,
// manual verdicts, Kong's /health shapes and errors, health kept across unrelated configuration changes, and
// one checker per node shared by every proxy worker.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { admin, configure } from "./helpers.ts";

/** An upstream on a fixed port that can be stopped and started again; `status` is what it answers. */
type Controlled = {
  name: string;
  port: number;
  status: number;
  probes: number[];
  hits: number;
  stop(): Promise<void>;
  start(): void;
};

const controlled: Controlled[] = [];

function upstream(name: string): Controlled {
  let server: Server<unknown> | null = null;
  const self: Controlled = {
    name,
    port: 0,
    status: 200,
    probes: [],
    hits: 0,
    async stop() {
      await server?.stop(true);
      server = null;
    },
    start() {
      server = Bun.serve({
        hostname: "127.0.0.1",
        port: self.port,
        fetch(request) {
          if (new URL(request.url).pathname === "/health") {
            self.probes.push(performance.now());
            return new Response("ok", { status: self.status === 200 ? 200 : 500 });
          }
          self.hits++;
          return Response.json({ name }, { status: self.status });
        },
      });
      self.port = server.port!;
    },
  };
  self.start();
  controlled.push(self);
  return self;
}

afterAll(async () => {
  await Promise.all(controlled.map((c) => c.stop()));
});

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 15_000) {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Requests sent by `clients` clients, one after another each; counts answers by name, or status. */
async function traffic(tg: TestGateway, path: string, count: number, clients = 4) {
  const counts: Record<string, number> = {};
  let sent = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (sent < count) {
        sent++;
        const res = await tg.proxy(path);
        const text = await res.text();
        const key =
          res.status === 200 ? (JSON.parse(text) as { name: string }).name : `${res.status} ${text}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

async function setup(
  tg: TestGateway,
  name: string,
  healthchecks: Record<string, unknown> | undefined,
  targets: Controlled[],
  path: string,
) {
  const u = await admin(tg, "POST", "/upstreams", healthchecks ? { name, healthchecks } : { name });
  for (const t of targets)
    await admin(tg, "POST", `/upstreams/${name}/targets`, { target: `127.0.0.1:${t.port}` });
  await configure(tg, { name: `svc-${name}`, host: name }, [{ paths: [path] }]);
  return u as { id: string; name: string };
}

// biome-ignore lint/suspicious/noExplicitAny: Kong's health bodies are checked field by field
async function health(tg: TestGateway, name: string): Promise<any> {
  const res = await tg.admin(`/upstreams/${name}/health`);
  expect(res.status).toBe(200);
  return res.json();
}

async function targetHealth(tg: TestGateway, name: string, port: number): Promise<string> {
  const body = await health(tg, name);
  return body.data.find((t: { target: string }) => t.target === `127.0.0.1:${port}`).health;
}

const PASSIVE_TCP = { passive: { unhealthy: { tcp_failures: 1, timeouts: 1 } } };

describe("one proxy worker", () => {
  let tg: TestGateway;
  beforeAll(async () => {
    tg = await startTestGateway();
  });
  afterAll(() => tg.stop());

  test("a target killed under continuous traffic: no client sees a failure; active checks bring it back", async () => {
    const [a, b, c] = [upstream("a"), upstream("b"), upstream("c")];
    await setup(
      tg,
      "failover.test",
      {
        ...PASSIVE_TCP,
        active: {
          http_path: "/health",
          healthy: { successes: 2 },
          unhealthy: { interval: 0.1, tcp_failures: 1, http_failures: 1 },
        },
      },
      [a, b, c],
      "/failover",
    );
    expect(await traffic(tg, "/failover", 60)).toEqual({ a: 20, b: 20, c: 20 });
    await b.stop();
    const during = await traffic(tg, "/failover", 300);
    expect(Object.keys(during).sort()).toEqual(["a", "c"]);
    expect(during.a! + during.c!).toBe(300);
    expect(await targetHealth(tg, "failover.test", b.port)).toBe("UNHEALTHY");

    b.start();
    await waitFor(
      "b healthy again",
      async () => (await targetHealth(tg, "failover.test", b.port)) === "HEALTHY",
    );
    const after = await traffic(tg, "/failover", 60);
    expect(after.b).toBeGreaterThan(0);
  });

  test("passive HTTP statuses: unhealthy statuses count, a status in neither list changes nothing", async () => {
    const [a, b] = [upstream("pa"), upstream("pb")];
    await setup(tg, "statuses.test", { passive: { unhealthy: { http_failures: 3 } } }, [a, b], "/statuses");
    a.status = 418;
    await traffic(tg, "/statuses", 40);
    expect(await targetHealth(tg, "statuses.test", a.port)).toBe("HEALTHY");
    a.status = 500;
    await waitFor("a unhealthy", async () => {
      await traffic(tg, "/statuses", 10, 1);
      return (await targetHealth(tg, "statuses.test", a.port)) === "UNHEALTHY";
    });
    a.status = 200;
    // Passive checks alone never bring a target back (Kong's documented behaviour): it gets no traffic.
    expect(await traffic(tg, "/statuses", 30)).toEqual({ pb: 30 });
    expect(await targetHealth(tg, "statuses.test", a.port)).toBe("UNHEALTHY");
    const put = await tg.admin(`/upstreams/statuses.test/targets/127.0.0.1:${a.port}/healthy`, {
      method: "PUT",
    });
    expect(put.status).toBe(204);
    expect(await put.text()).toBe("");
    await waitFor("a gets traffic", async () => ((await traffic(tg, "/statuses", 10)).pa ?? 0) > 0);
  });

  test("manual verdicts, the per-address form, and 503 when no target is healthy", async () => {
    const [a, b] = [upstream("ma"), upstream("mb")];
    const u = await setup(tg, "manual.test", PASSIVE_TCP, [a, b], "/manual");
    const put = (target: string, verdict: string) =>
      tg.admin(`/upstreams/${u.id}/targets/${target}/${verdict}`, { method: "PUT" });
    expect((await put(`127.0.0.1:${a.port}`, "unhealthy")).status).toBe(204);
    expect(await traffic(tg, "/manual", 20)).toEqual({ mb: 20 });
    expect((await put(`127.0.0.1:${b.port}/127.0.0.1:${b.port}`, "unhealthy")).status).toBe(204);
    expect(await targetHealth(tg, "manual.test", b.port)).toBe("UNHEALTHY");
    const res = await tg.proxy("/manual");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      message: "failure to get a peer from the ring-balancer",
      request_id: res.headers.get("x-portico-request-id"),
    });
    const balancer = await (await tg.admin("/upstreams/manual.test/health?balancer_health=1")).json();
    expect(balancer.data.health).toBe("UNHEALTHY");
    expect(balancer.data.balancer_health).toBe("UNHEALTHY");
    expect(balancer.data.details.weight).toEqual({ total: 200, available: 0, unavailable: 200 });
    expect((await put(`127.0.0.1:${a.port}`, "healthy")).status).toBe(204);
    expect(await traffic(tg, "/manual", 20)).toEqual({ ma: 20 });

    // Errors: an address the target does not have, an unknown target, an upstream without checks.
    expect((await put(`127.0.0.1:${a.port}/10.9.9.9:1`, "healthy")).status).toBe(404);
    const unknown = await put("10.9.9.9:1", "healthy");
    expect({ status: unknown.status, body: await unknown.json() }).toEqual({
      status: 404,
      body: { message: "Not found" },
    });
    await setup(tg, "nochecks.test", undefined, [a], "/nochecks");
    const off = await tg.admin(`/upstreams/nochecks.test/targets/127.0.0.1:${a.port}/unhealthy`, {
      method: "PUT",
    });
    expect({ status: off.status, body: await off.json() }).toEqual({
      status: 400,
      body: { message: "no healthchecker found for nochecks.test" },
    });
  });

  test("GET /upstreams/{u}/health: Kong's shape; HEALTHCHECKS_OFF, weight 0 and DNS_ERROR", async () => {
    const a = upstream("ha");
    const u = await setup(tg, "shape.test", PASSIVE_TCP, [a], "/shape");
    await admin(tg, "POST", "/upstreams/shape.test/targets", { target: "127.0.0.2:9", weight: 0 });
    await admin(tg, "POST", "/upstreams/shape.test/targets", { target: "no-such-host.invalid:80" });
    await tg.gateway.synced();
    const body = await waitFor("the name to fail resolving", async () => {
      const b = await health(tg, "shape.test");
      return b.data.length === 3 && b.data[0].health === "DNS_ERROR" ? b : null;
    });
    const nodeId = (await (await tg.admin("/")).json()).node_id;
    expect(body.node_id).toBe(nodeId);
    expect(body.next).toBeNull();
    const [dns, zero, live] = body.data;
    expect(dns.target).toBe("no-such-host.invalid:80");
    expect(zero.health).toBe("HEALTHCHECKS_OFF");
    expect(zero.data.addresses).toEqual([
      { ip: "127.0.0.2", port: 9, weight: 0, health: "HEALTHCHECKS_OFF" },
    ]);
    const target = (await admin(tg, "GET", `/upstreams/shape.test/targets/127.0.0.1:${a.port}`)) as object;
    expect(live).toEqual({
      ...target,
      health: "HEALTHY",
      data: {
        host: "127.0.0.1",
        port: a.port,
        dns: "A",
        nodeWeight: 100,
        weight: { total: 100, available: 100, unavailable: 0 },
        addresses: [{ ip: "127.0.0.1", port: a.port, weight: 100, health: "HEALTHY" }],
      },
    });
    const balancer = await (await tg.admin("/upstreams/shape.test/health?balancer_health=1")).json();
    expect(balancer).toEqual({
      data: {
        health: "HEALTHY",
        balancer_health: "HEALTHY",
        id: u.id,
        details: {
          healthy: true,
          weight: { total: 100, available: 100, unavailable: 0 },
          hosts: expect.arrayContaining([
            expect.objectContaining({ host: "no-such-host.invalid" }),
            live.data,
          ]),
        },
      },
      next: null,
      node_id: nodeId,
    });

    await setup(tg, "off.test", undefined, [a], "/off");
    const off = await health(tg, "off.test");
    expect(off.data[0].health).toBe("HEALTHCHECKS_OFF");
    expect(off.data[0].data.addresses[0].health).toBe("HEALTHCHECKS_OFF");
    const offBalancer = await (await tg.admin("/upstreams/off.test/health?balancer_health=1")).json();
    expect([offBalancer.data.health, offBalancer.data.balancer_health]).toEqual([
      "HEALTHCHECKS_OFF",
      "HEALTHY",
    ]);
    expect((await tg.admin("/upstreams/missing.test/health")).status).toBe(404);
  });

  test("prometheus upstream_health_metrics: kong_upstream_target_health, 1 on the current state", async () => {
    const a = upstream("prom");
    await setup(tg, "prom.test", PASSIVE_TCP, [a], "/prom");
    const series = async () =>
      (await (await tg.admin("/metrics")).text())
        .split("\n")
        .filter((l) => l.startsWith('kong_upstream_target_health{upstream="prom.test"'));
    expect(await series()).toEqual([]);
    const plugin = await admin(tg, "POST", "/plugins", {
      name: "prometheus",
      config: { upstream_health_metrics: true },
    });
    await tg.gateway.synced();
    const line = (state: string, value: number) =>
      `kong_upstream_target_health{upstream="prom.test",target="127.0.0.1:${a.port}",address="127.0.0.1:${a.port}",state="${state}",subsystem="http"} ${value}`;
    expect((await series()).sort()).toEqual(
      [line("healthchecks_off", 0), line("healthy", 1), line("unhealthy", 0), line("dns_error", 0)].sort(),
    );
    await tg.admin(`/upstreams/prom.test/targets/127.0.0.1:${a.port}/unhealthy`, { method: "PUT" });
    expect(await series()).toContain(line("unhealthy", 1));
    await admin(tg, "DELETE", `/plugins/${plugin.id}`);
  });

  test("PATCH /services (the seed's refresh) probes every target of a balanced service", async () => {
    const [a, b] = [upstream("ra"), upstream("rb")];
    await setup(tg, "refresh.test", PASSIVE_TCP, [a, b], "/refresh");
    await b.stop();
    const res = await tg.admin("/services", { method: "PATCH" });
    expect(res.status).toBe(200);
    const entry = ((await res.json()) as Record<string, unknown>[]).find(
      (s) => s.name === "svc-refresh.test",
    );
    expect({ ...entry, latency_ms: 0 } as Record<string, unknown>).toEqual({
      id: expect.any(String),
      name: "svc-refresh.test",
      url: "http://refresh.test/",
      up: true,
      status: 200,
      error: null,
      latency_ms: 0,
      // The targets in the store's order (by id), so in either order here.
      targets: expect.arrayContaining([
        {
          target: `127.0.0.1:${a.port}`,
          address: `127.0.0.1:${a.port}`,
          up: true,
          status: 200,
          error: null,
          health: "HEALTHY",
        },
        {
          target: `127.0.0.1:${b.port}`,
          address: `127.0.0.1:${b.port}`,
          up: false,
          status: null,
          error: "ECONNREFUSED",
          health: "HEALTHY",
        },
      ]),
    });
    expect(entry?.targets).toHaveLength(2);
    b.start();
  });

  test("health survives configuration changes that leave the upstream alone; its own change resets it", async () => {
    const [a, b] = [upstream("sa"), upstream("sb")];
    await setup(tg, "survive.test", PASSIVE_TCP, [a, b], "/survive");
    await tg.admin(`/upstreams/survive.test/targets/127.0.0.1:${a.port}/unhealthy`, { method: "PUT" });
    await configure(tg, { name: "unrelated", url: "http://127.0.0.1:1" }, [{ paths: ["/unrelated"] }]);
    await admin(tg, "PATCH", "/services/svc-survive.test", { read_timeout: 5000 });
    await tg.gateway.synced();
    expect(await targetHealth(tg, "survive.test", a.port)).toBe("UNHEALTHY");
    expect(await traffic(tg, "/survive", 20)).toEqual({ sb: 20 });
    // A target added to the upstream keeps the others' state; new health settings start everyone healthy.
    const c = upstream("sc");
    await admin(tg, "POST", "/upstreams/survive.test/targets", { target: `127.0.0.1:${c.port}` });
    await tg.gateway.synced();
    expect(await targetHealth(tg, "survive.test", a.port)).toBe("UNHEALTHY");
    await admin(tg, "PATCH", "/upstreams/survive.test", {
      healthchecks: { passive: { unhealthy: { tcp_failures: 2 } } },
    });
    await tg.gateway.synced();
    await waitFor(
      "a reset to healthy",
      async () => (await targetHealth(tg, "survive.test", a.port)) === "HEALTHY",
    );
    await waitFor("a gets traffic", async () => ((await traffic(tg, "/survive", 12)).sa ?? 0) > 0);
  });
});

describe("two proxy workers", () => {
  let tg: TestGateway;
  beforeAll(async () => {
    tg = await startTestGateway(["--workers", "2"]);
  });
  afterAll(() => tg.stop());

  test("every worker follows the node's verdicts (manual and passive)", async () => {
    const [a, b, c] = [upstream("wa"), upstream("wb"), upstream("wc")];
    await setup(tg, "workers.test", PASSIVE_TCP, [a, b, c], "/workers");
    await tg.admin(`/upstreams/workers.test/targets/127.0.0.1:${a.port}/unhealthy`, { method: "PUT" });
    // The verdict reaches each worker as a message: wait until a burst over both workers avoids wa.
    await waitFor(
      "every worker to avoid wa",
      async () => (await traffic(tg, "/workers", 40, 8)).wa === undefined,
    );
    const counts = await traffic(tg, "/workers", 100, 8);
    expect(Object.keys(counts).sort()).toEqual(["wb", "wc"]);
    await c.stop();
    const during = await traffic(tg, "/workers", 100, 8);
    expect(during).toEqual({ wb: 100 });
    await waitFor(
      "c unhealthy",
      async () => (await targetHealth(tg, "workers.test", c.port)) === "UNHEALTHY",
    );
    const hitsBefore = b.hits;
    expect(await traffic(tg, "/workers", 60, 8)).toEqual({ wb: 60 });
    expect(b.hits - hitsBefore).toBe(60);
  });

  test("active probes run once per node, not once per worker", async () => {
    const p = upstream("probe");
    await setup(
      tg,
      "probes.test",
      { active: { http_path: "/health", healthy: { interval: 0.2, successes: 1 } } },
      [p],
      "/probes",
    );
    await waitFor("10 probes", async () => p.probes.length >= 10);
    const span = (p.probes.at(-1)! - p.probes[0]!) / 1000;
    // One checker probes at most every 0.2 s (load can only make it slower); one per worker would double it.
    expect(p.probes.length - 1).toBeLessThanOrEqual(Math.ceil((span / 0.2) * 1.3) + 1);
  });
});
