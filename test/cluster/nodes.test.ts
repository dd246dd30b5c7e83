// Three nodes on one PostgreSQL database (real processes, two proxy workers each): a write on any node is
// served by every other node within a second; nodes list each other in sync; GraphQL subscriptions on one
// node deliver writes made on another; and a change committed without a NOTIFY still arrives (the poll).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { type PorticoProcess, SOURCE_COMMAND, startPortico } from "../support/process.ts";

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--workers", "2"];

async function post(node: PorticoProcess, path: string, body: unknown) {
  const res = await fetch(`${node.adminUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect({ status: res.status, text: res.status < 300 ? "" : text }).toEqual({
    status: res.status,
    text: "",
  });
  return JSON.parse(text) as { id: string };
}

/** Milliseconds until `node` answers `status` for `path` (polling every 5 ms), or -1 after `limitMs`. */
async function msUntilServed(
  node: PorticoProcess,
  path: string,
  status: number,
  since: number,
  limitMs: number,
) {
  while (performance.now() - since < limitMs) {
    const res = await fetch(`${node.proxyUrl}${path}`);
    await res.arrayBuffer();
    if (res.status === status) return performance.now() - since;
    await Bun.sleep(5);
  }
  return -1;
}

describe.skipIf(!(await requirePostgres("cluster of nodes on PostgreSQL")))(
  "three nodes on one database",
  () => {
    let db: TestDatabase;
    let upstream: ReturnType<typeof Bun.serve>;
    const nodes: PorticoProcess[] = [];

    beforeAll(async () => {
      db = await createTestDatabase();
      upstream = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: (req) => new Response(new URL(req.url).pathname),
      });
      for (let i = 0; i < 3; i++)
        nodes.push(await startPortico(SOURCE_COMMAND, ["--database", db.url, ...LOOPBACK]));
      await post(nodes[0]!, "/services", { name: "shared", url: `http://127.0.0.1:${upstream.port}` });
    }, 60_000);

    afterAll(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      upstream.stop(true);
      await db.drop();
    });

    test("a route written on each node is served by the two others, typically within a second", async () => {
      const delays: number[] = [];
      for (let i = 0; i < nodes.length; i++) {
        const written = performance.now();
        await post(nodes[i]!, "/services/shared/routes", { name: `r${i}`, paths: [`/n${i}`] });
        for (let j = 0; j < nodes.length; j++) {
          if (j === i) continue;
          const ms = await msUntilServed(nodes[j]!, `/n${i}/x`, 200, written, 3000);
          delays.push(ms);
        }
      }
      // Every change arrives; the typical one within a second. A single late one (a 2-core machine running
      // three nodes and other suites) is allowed up to the 3 s the poll waits, not a missed change.
      const sorted = [...delays].sort((a, b) => a - b);
      expect({
        all: delays.every((ms) => ms >= 0),
        median: sorted[Math.floor(sorted.length / 2)]! < 1000,
      }).toEqual({
        all: true,
        median: true,
      });
    });

    test("every node lists the three nodes, in sync, with their workers", async () => {
      const deadline = performance.now() + 3000;
      let body: { data: { in_sync: boolean; workers: number; stale: boolean }[]; next: null } | undefined;
      while (performance.now() < deadline) {
        body = await (await fetch(`${nodes[2]!.adminUrl}/clustering/nodes`)).json();
        if (body!.data.length === 3 && body!.data.every((n) => n.in_sync)) break;
        await Bun.sleep(100);
      }
      expect(body!.data.map((n) => [n.in_sync, n.workers, n.stale])).toEqual([
        [true, 2, false],
        [true, 2, false],
        [true, 2, false],
      ]);
      const gql = await fetch(`${nodes[1]!.adminUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ nodes { data { inSync workers } } }" }),
      });
      expect((await gql.json()).data.nodes.data).toHaveLength(3);
    });

    test("configChanged on one node delivers a write made on another", async () => {
      const controller = new AbortController();
      const response = await fetch(`${nodes[1]!.adminUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ query: "subscription { configChanged { entity action id } }" }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await Bun.sleep(200);
      const consumer = await post(nodes[0]!, "/consumers", { username: "from-node-0" });
      let text = "";
      const deadline = performance.now() + 2000;
      while (!text.includes(consumer.id) && performance.now() < deadline) {
        const chunk = await Promise.race([reader.read(), Bun.sleep(2000).then(() => null)]);
        if (!chunk || chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      controller.abort();
      expect(text).toContain(`"entity":"consumers","action":"create","id":"${consumer.id}"`);
    });

    test("a change committed without a notification is still picked up by the periodic check", async () => {
      // Another writer that never NOTIFYs (or a notification lost with a dropped connection).
      const sql = new SQL(db.url, { max: 1 });
      try {
        await sql.begin(async (tx) => {
          const [route] = await tx`UPDATE routes SET paths = '["/silent"]' WHERE name = 'r0' RETURNING id`;
          const [state] =
            await tx`UPDATE config_state SET version = version + 1 WHERE id = 1 RETURNING version`;
          await tx`INSERT INTO config_events (version, entity, action, entity_id, at)
                 VALUES (${state.version}, 'routes', 'update', ${route.id}, ${Date.now()})`;
        });
      } finally {
        await sql.close();
      }
      const since = performance.now();
      for (const node of nodes)
        expect(await msUntilServed(node, "/silent", 200, since, 3000)).toBeGreaterThan(-1);
      expect((await fetch(`${nodes[0]!.proxyUrl}/n0`)).status).toBe(404);
    });
  },
);
