// Black-box: rate-limiting's `cluster` policy, counters in the gateway's own database — one node under
// concurrent clients, two nodes (two processes) sharing one SQLite file, and two nodes sharing one
// PostgreSQL database: never more admitted than the limit, and the counts in Kong's ratelimiting_metrics.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { startUpstream, type Upstream } from "../proxy/helpers.ts";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { type PorticoProcess, SOURCE_COMMAND, startPortico } from "../support/process.ts";
import { admin, burst, countOf } from "./helpers.ts";

/** A service with one route and the cluster-policy plugin on the route; resolves the route's id. */
async function configure(tg: TestGateway, upstream: Upstream, config: Record<string, unknown>) {
  const svc = await admin(tg, "POST", "/services", { name: "counted", url: upstream.url });
  const route = await admin(tg, "POST", `/services/${svc.id}/routes`, { paths: ["/counted"] });
  await admin(tg, "POST", `/routes/${route.id}/plugins`, { name: "rate-limiting", config });
  if (!(await tg.gateway.synced())) throw new Error("not synced");
  return route.id as string;
}

describe("cluster policy on SQLite", () => {
  let upstream: Upstream;
  let a: TestGateway;
  let b: PorticoProcess;
  let routeId: string;

  beforeAll(async () => {
    upstream = startUpstream();
    a = await startTestGateway();
    routeId = await configure(a, upstream, { hour: 10, day: 100, limit_by: "ip", policy: "cluster" });
    // A second node: another process on the same database file, started once the configuration is there.
    b = await startPortico(SOURCE_COMMAND, [
      "start",
      "--database",
      a.databasePath,
      "--proxy-listen",
      "127.0.0.1:0",
      "--admin-listen",
      "127.0.0.1:0",
    ]);
  });

  afterAll(async () => {
    await b.stop();
    await a.stop();
    await upstream.stop();
  });

  test("40 concurrent requests through two processes against hour=10: exactly 10 admitted", async () => {
    const statuses = await burst(40, (i) => fetch(`${i % 2 === 0 ? a.proxyUrl : b.proxyUrl}/counted`));
    expect(countOf(statuses, 200)).toBe(10);
    expect(countOf(statuses, 429)).toBe(30);
    const db = new Database(a.databasePath, { readonly: true });
    try {
      const rows = db
        .query<
          { period: string; value: number; route_id: string; service_id: string; identifier: string },
          []
        >("SELECT period, value, route_id, service_id, identifier FROM ratelimiting_metrics ORDER BY period")
        .all();
      expect(rows).toEqual([
        {
          period: "day",
          value: 10,
          route_id: routeId,
          service_id: "00000000-0000-0000-0000-000000000000",
          identifier: "127.0.0.1",
        },
        {
          period: "hour",
          value: 10,
          route_id: routeId,
          service_id: "00000000-0000-0000-0000-000000000000",
          identifier: "127.0.0.1",
        },
      ]);
    } finally {
      db.close();
    }
  });

  test("both nodes show the shared count in their headers", async () => {
    const fromA = await fetch(`${a.proxyUrl}/counted`);
    const fromB = await fetch(`${b.proxyUrl}/counted`);
    expect([fromA.status, fromB.status]).toEqual([429, 429]);
    expect(fromA.headers.get("x-ratelimit-remaining-day")).toBe("90");
    expect(fromB.headers.get("x-ratelimit-remaining-day")).toBe("90");
  });
});

const hasPostgres = await requirePostgres("rate-limiting cluster policy on PostgreSQL");

describe.skipIf(!hasPostgres)("cluster policy on PostgreSQL", () => {
  let upstream: Upstream;
  let database: TestDatabase;
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    upstream = startUpstream();
    database = await createTestDatabase();
    a = await startTestGateway([], database.url);
    await configure(a, upstream, { hour: 10, limit_by: "ip", policy: "cluster" });
    b = await startTestGateway([], database.url);
  });

  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await database.drop();
    await upstream.stop();
  });

  test("40 concurrent requests through two nodes against hour=10: exactly 10 admitted", async () => {
    const statuses = await burst(40, (i) => (i % 2 === 0 ? a : b).proxy("/counted"));
    expect(countOf(statuses, 200)).toBe(10);
    expect(countOf(statuses, 429)).toBe(30);
  });
});

describe("a node with several proxy workers", () => {
  let upstream: Upstream;
  let node: TestGateway;

  beforeAll(async () => {
    upstream = startUpstream();
    node = await startTestGateway(["--workers", "3"]);
    const svc = await admin(node, "POST", "/services", { name: "workers", url: upstream.url });
    for (const [path, policy] of [
      ["/local", "local"],
      ["/cluster", "cluster"],
    ]) {
      const route = await admin(node, "POST", `/services/${svc.id}/routes`, { paths: [path] });
      await admin(node, "POST", `/routes/${route.id}/plugins`, {
        name: "rate-limiting",
        config: { hour: 10, limit_by: "ip", policy },
      });
    }
    if (!(await node.gateway.synced())) throw new Error("not synced");
  });

  afterAll(async () => {
    await node.stop();
    await upstream.stop();
  });

  // Each request on its own connection, so the kernel spreads them over the workers (SO_REUSEPORT).
  const fresh = (path: string) => fetch(`${node.proxyUrl}${path}`, { headers: { connection: "close" } });

  test("local: the workers share one counter (hour=10 admits 10 of 40, not 10 per worker)", async () => {
    const statuses = await burst(40, () => fresh("/local"));
    expect(countOf(statuses, 200)).toBe(10);
    expect(countOf(statuses, 429)).toBe(30);
  });

  test("cluster: workers reach the database counters through the main thread", async () => {
    const statuses = await burst(40, () => fresh("/cluster"));
    expect(countOf(statuses, 200)).toBe(10);
    expect(countOf(statuses, 429)).toBe(30);
  });
});
