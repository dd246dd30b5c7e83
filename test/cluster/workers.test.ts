// Several proxy workers on one node (threads sharing the port): every worker serves a change by the time the
// admin write answers, a worker that dies is replaced and given the current configuration, /status counts
// the whole node, and stopping drains them all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";

let tg: TestGateway;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  tg = await startTestGateway(["--workers", "2"]);
  upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("hi") });
});
afterAll(async () => {
  await tg.stop();
  upstream.stop(true);
});

/** Fresh connections spread over the workers (the kernel balances SO_REUSEPORT sockets per connection). */
async function statuses(path: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${tg.proxyUrl}${path}`, { headers: { connection: "close" } });
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

describe("--workers 2", () => {
  test("the node runs two workers; a route is served by both the moment its write answers", async () => {
    expect(tg.gateway.workers?.count).toBe(2);
    expect(
      (
        await tg.admin("/services", {
          method: "POST",
          body: { name: "w", url: `http://127.0.0.1:${upstream.port}` },
        })
      ).status,
    ).toBe(201);
    for (let i = 0; i < 5; i++) {
      const res = await tg.admin("/services/w/routes", { method: "POST", body: { paths: [`/fresh-${i}`] } });
      expect(res.headers.get("x-portico-config-applied")).toBe("true");
      // Right away, on new connections (so on both workers): never the 404 of the version before.
      expect(await statuses(`/fresh-${i}`, 8)).toEqual(Array(8).fill(200));
    }
  });

  test("a worker that dies is replaced and serves the current configuration", async () => {
    const before = tg.gateway.workers!.restarts();
    tg.gateway.workers!.terminate(0);
    const deadline = performance.now() + 5000;
    while (tg.gateway.workers!.restarts() === before && performance.now() < deadline) await Bun.sleep(20);
    expect(tg.gateway.workers!.restarts()).toBe(before + 1);
    while (
      tg.gateway.servedVersion() < (await tg.gateway.store.configVersion()) &&
      performance.now() < deadline
    )
      await Bun.sleep(20);
    expect(tg.gateway.servedVersion()).toBe(await tg.gateway.store.configVersion());
    expect(await statuses("/fresh-0", 10)).toEqual(Array(10).fill(200));
  });

  test("/status counts the requests of every worker", async () => {
    const before = (await (await tg.admin("/status")).json()).server.proxy_requests_total;
    await statuses("/fresh-1", 10);
    await Bun.sleep(50);
    const after = (await (await tg.admin("/status")).json()).server.proxy_requests_total;
    expect(after - before).toBe(10);
  });
});
