// A proxy-cache purge on one node empties the other nodes' caches too (Kong broadcasts it as the
// "proxy-cache:purge" cluster event): two real nodes on one PostgreSQL database, each with its own in-memory
// cache, a purge by key and a purge of everything sent to the first, the second's next answer a Miss.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { type PorticoProcess, SOURCE_COMMAND, startPortico } from "../support/process.ts";

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--workers", "1"];

async function admin(node: PorticoProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${node.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function cached(node: PorticoProcess, path: string) {
  const res = await fetch(`${node.proxyUrl}${path}`);
  await res.arrayBuffer();
  return {
    status: res.status,
    cache: res.headers.get("x-cache-status"),
    key: res.headers.get("x-cache-key"),
  };
}

/** Polls until `node` answers `path` with X-Cache-Status Miss: ms taken, or -1 after `limitMs`. */
async function msUntilMiss(node: PorticoProcess, path: string, since: number, limitMs: number) {
  while (performance.now() - since < limitMs) {
    if ((await cached(node, path)).cache === "Miss") return performance.now() - since;
    await Bun.sleep(20);
  }
  return -1;
}

describe.skipIf(!(await requirePostgres("proxy-cache purge across nodes on PostgreSQL")))(
  "proxy-cache purge across two nodes",
  () => {
    let db: TestDatabase;
    let upstream: ReturnType<typeof Bun.serve>;
    let a: PorticoProcess;
    let b: PorticoProcess;

    beforeAll(async () => {
      db = await createTestDatabase();
      upstream = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: (req) =>
          new Response(new URL(req.url).pathname, { headers: { "content-type": "text/plain" } }),
      });
      a = await startPortico(SOURCE_COMMAND, ["--database", db.url, ...LOOPBACK]);
      b = await startPortico(SOURCE_COMMAND, ["--database", db.url, ...LOOPBACK]);
      expect(
        (await admin(a, "POST", "/services", { name: "s", url: `http://127.0.0.1:${upstream.port}` })).status,
      ).toBe(201);
      expect((await admin(a, "POST", "/services/s/routes", { name: "c", paths: ["/c"] })).status).toBe(201);
      const plugin = await admin(a, "POST", "/routes/c/plugins", {
        name: "proxy-cache",
        config: { strategy: "memory", content_type: ["text/plain"] },
      });
      expect(plugin.status).toBe(201);
      const deadline = performance.now() + 5000;
      while (performance.now() < deadline && (await cached(b, "/c/ready")).cache === null)
        await Bun.sleep(20);
    }, 60_000);

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      upstream?.stop(true);
      await db?.drop();
    });

    /** Both nodes answer `path` from their own cache. */
    async function warm(path: string) {
      for (const node of [a, b]) {
        await cached(node, path);
        expect((await cached(node, path)).cache).toBe("Hit");
      }
    }

    test("a purge by key on one node reaches the other; its other keys stay", async () => {
      await warm("/c/x");
      await warm("/c/y");
      const { key } = await cached(b, "/c/x");
      const purged = await admin(a, "DELETE", `/proxy-cache/${key}`);
      const sent = performance.now();
      expect(purged.status).toBe(204);
      expect((await cached(a, "/c/x")).cache).toBe("Miss");
      const ms = await msUntilMiss(b, "/c/x", sent, 3000);
      expect({ arrived: ms >= 0, other: (await cached(b, "/c/y")).cache }).toEqual({
        arrived: true,
        other: "Hit",
      });
    });

    test("a purge of everything on one node empties the other's cache", async () => {
      await warm("/c/x");
      await warm("/c/z");
      const flushed = await admin(a, "DELETE", "/proxy-cache");
      const sent = performance.now();
      expect(flushed.status).toBe(204);
      const ms = await msUntilMiss(b, "/c/z", sent, 3000);
      expect({ arrived: ms >= 0, x: (await cached(b, "/c/x")).cache }).toEqual({ arrived: true, x: "Miss" });
    });

    test("a fetch of an entry stays on the node asked: it purges nothing anywhere", async () => {
      await warm("/c/w");
      const { key } = await cached(b, "/c/w");
      expect((await admin(a, "GET", `/proxy-cache/${key}`)).status).toBe(200);
      await Bun.sleep(1200);
      expect([(await cached(a, "/c/w")).cache, (await cached(b, "/c/w")).cache]).toEqual(["Hit", "Hit"]);
    });
  },
);
