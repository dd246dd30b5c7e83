// Black-box: configuration written through the admin API reaches the proxy within 50 ms, traffic running
// during changes never sees a gap, and in-flight requests finish on the snapshot they started with.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { admin, configure, startUpstream, type Upstream } from "./helpers.ts";

let tg: TestGateway;
let blue: Upstream;
let green: Upstream;

beforeAll(async () => {
  tg = await startTestGateway();
  blue = startUpstream(() => new Response("blue"));
  green = startUpstream(() => new Response("green"));
});

afterAll(async () => {
  await tg.stop();
  await blue.stop();
  await green.stop();
});

/** Polls the proxy until `path` answers `status`; returns the milliseconds since `since`. */
async function msUntil(path: string, status: number, since: number): Promise<number> {
  for (let i = 0; i < 2000; i++) {
    const res = await tg.proxy(path);
    await res.arrayBuffer();
    if (res.status === status) return performance.now() - since;
  }
  throw new Error(`${path} never answered ${status}`);
}

test("a new route, a change and a delete are served within 50 ms of the admin write", async () => {
  const { id: serviceId } = await admin(tg, "POST", "/services", { name: "swap-blue", url: blue.url });
  let written = performance.now();
  const route = await admin(tg, "POST", `/services/${serviceId}/routes`, { paths: ["/fresh"] });
  expect(await msUntil("/fresh", 200, written)).toBeLessThan(50);

  written = performance.now();
  await admin(tg, "PATCH", `/routes/${route.id}`, { paths: ["/renamed"] });
  expect(await msUntil("/renamed", 200, written)).toBeLessThan(50);
  expect((await tg.proxy("/fresh")).status).toBe(404);

  written = performance.now();
  await admin(tg, "DELETE", `/routes/${route.id}`);
  expect(await msUntil("/renamed", 404, written)).toBeLessThan(50);
});

test("traffic during changes never fails: every answer comes from the old or the new configuration", async () => {
  const { routes } = await configure(tg, { name: "swap-live", url: blue.url }, [{ paths: ["/live"] }]);
  const { service: greenService } = await configure(tg, { name: "swap-green", url: green.url }, []);
  const seen = new Map<string, number>();
  let running = true;
  const worker = async () => {
    while (running) {
      const res = await tg.proxy("/live");
      const key = `${res.status} ${await res.text()}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  for (let i = 0; i < 10; i++) {
    await admin(tg, "PATCH", `/routes/${routes[0]!.id}`, {
      service: { id: i % 2 === 0 ? greenService.id : (await admin(tg, "GET", "/services/swap-live")).id },
    });
    // Unrelated writes rebuild the snapshot too.
    await admin(tg, "POST", "/services", { name: `swap-noise-${i}`, url: blue.url });
    await Bun.sleep(5);
  }
  running = false;
  await Promise.all(workers);
  expect([...seen.keys()].sort()).toEqual(["200 blue", "200 green"]);
  expect([...seen.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
});

test("an in-flight request finishes on the snapshot it started with", async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const slow = startUpstream(async () => {
    await held;
    return new Response("finished");
  });
  const { service, routes } = await configure(tg, { name: "swap-slow", url: slow.url }, [
    { paths: ["/inflight"] },
  ]);
  const pending = tg.proxy("/inflight");
  while (slow.received.length === 0) await Bun.sleep(2);
  await admin(tg, "DELETE", `/routes/${routes[0]!.id}`);
  await admin(tg, "PATCH", `/services/${service.id}`, { enabled: false });
  await tg.gateway.synced();
  expect((await tg.proxy("/inflight")).status).toBe(404);
  release();
  const res = await pending;
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("finished");
  await slow.stop();
});
