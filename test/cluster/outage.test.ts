// A proxy that outlives its database: node A reaches PostgreSQL through a relay the test cuts and restores,
// node B directly. While A is cut off its traffic keeps flowing on the last configuration, its admin API
// answers 503 (code 8) within a second, /status says reachable: false; once restored it catches up with what
// B wrote meanwhile and takes writes again — and no acknowledged write is lost, no refused one applied.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { type PorticoProcess, SOURCE_COMMAND, startPortico } from "../support/process.ts";
import { startRelay, type TcpRelay } from "../support/tcp-relay.ts";

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--workers", "2"];

async function admin(node: PorticoProcess, method: string, path: string, body?: unknown) {
  const started = performance.now();
  const res = await fetch(`${node.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, ms: performance.now() - started };
}

describe.skipIf(!(await requirePostgres("database outage on PostgreSQL")))(
  "the database goes away and comes back",
  () => {
    let db: TestDatabase;
    let relay: TcpRelay;
    let a: PorticoProcess;
    let b: PorticoProcess;
    let upstream: ReturnType<typeof Bun.serve>;

    beforeAll(async () => {
      db = await createTestDatabase();
      const url = new URL(db.url);
      relay = await startRelay(url.hostname, Number(url.port || 5432));
      const viaRelay = new URL(db.url);
      viaRelay.port = String(relay.port);
      upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("up") });
      a = await startPortico(SOURCE_COMMAND, ["--database", viaRelay.toString(), ...LOOPBACK]);
      b = await startPortico(SOURCE_COMMAND, ["--database", db.url, ...LOOPBACK]);
      expect(
        (await admin(a, "POST", "/services", { name: "svc", url: `http://127.0.0.1:${upstream.port}` }))
          .status,
      ).toBe(201);
      expect(
        (await admin(a, "POST", "/services/svc/routes", { name: "before", paths: ["/before"] })).status,
      ).toBe(201);
    }, 60_000);

    afterAll(async () => {
      await Promise.all([a.stop(), b.stop()]);
      upstream.stop(true);
      await relay.stop();
      await db.drop();
    });

    test("traffic never notices; the admin API says 503 quickly; the node catches up afterwards", async () => {
      let running = true;
      const outcomes = { ok: 0, failed: 0 };
      const traffic = (async () => {
        while (running) {
          try {
            const res = await fetch(`${a.proxyUrl}/before`);
            await res.arrayBuffer();
            if (res.status === 200) outcomes.ok++;
            else outcomes.failed++;
          } catch {
            outcomes.failed++;
          }
        }
      })();

      await Bun.sleep(200);
      relay.cut();
      await Bun.sleep(300);

      const read = await admin(a, "GET", "/services");
      const write = await admin(a, "POST", "/consumers", { username: "refused-during-outage" });
      const status = await admin(a, "GET", "/status");
      // One object, so a failure shows every part of the outage at once.
      expect({
        read: [read.status, read.body?.code, read.body?.name, read.ms < 2000],
        write: [write.status, write.body?.code, write.ms < 2000],
        status: [status.status, status.body?.database],
      }).toEqual({
        read: [503, 8, "database error", true],
        write: [503, 8, true],
        status: [200, { reachable: false }],
      });

      // Meanwhile the other node, which still reaches the database, changes the configuration.
      expect(
        (await admin(b, "POST", "/services/svc/routes", { name: "during", paths: ["/during"] })).status,
      ).toBe(201);
      await Bun.sleep(500);
      expect((await fetch(`${a.proxyUrl}/during`)).status).toBe(404);

      relay.restore();
      const restored = performance.now();
      let caughtUp = -1;
      while (performance.now() - restored < 5000) {
        const res = await fetch(`${a.proxyUrl}/during`);
        await res.arrayBuffer();
        if (res.status === 200) {
          caughtUp = performance.now() - restored;
          break;
        }
        await Bun.sleep(20);
      }
      running = false;
      await traffic;

      const after = await admin(a, "POST", "/consumers", { username: "after-outage" });
      const refused = await admin(a, "GET", "/consumers/refused-during-outage");
      const before = await admin(b, "GET", "/routes/before");
      const reachable = (await admin(a, "GET", "/status")).body.database;
      expect({
        caughtUp: caughtUp > -1,
        failedProxied: outcomes.failed,
        enoughTraffic: outcomes.ok > 50,
        writeAfter: after.status,
        refusedWriteApplied: refused.status,
        acknowledgedBefore: before.status,
        reachable,
      }).toEqual({
        caughtUp: true,
        failedProxied: 0,
        enoughTraffic: true,
        writeAfter: 201,
        refusedWriteApplied: 404,
        acknowledgedBefore: 200,
        reachable: { reachable: true },
      });
    }, 30_000);
  },
);
