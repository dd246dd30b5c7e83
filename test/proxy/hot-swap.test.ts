// Black-box: configuration written through the admin API is served by the time the write is answered (read
// your own writes), traffic running during changes never sees a gap, and in-flight requests finish on the
// snapshot they started with.
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

/** One admin write; the answer must say the proxy already serves what it wrote. */
async function write(method: string, path: string, body?: unknown) {
  const res = await tg.admin(path, { method, body });
  expect(res.status).toBeLessThan(300);
  expect(res.headers.get("x-portico-config-applied")).toBe("true");
  expect(Number(res.headers.get("x-portico-config-version"))).toBeGreaterThan(0);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

test("a new route, a change and a delete are served the moment the admin write answers", async () => {
  const { id: serviceId } = await write("POST", "/services", { name: "swap-blue", url: blue.url });
  const route = await write("POST", `/services/${serviceId}/routes`, { paths: ["/fresh"] });
  expect((await tg.proxy("/fresh")).status).toBe(200);

  await write("PATCH", `/routes/${route.id}`, { paths: ["/renamed"] });
  expect((await tg.proxy("/renamed")).status).toBe(200);
  expect((await tg.proxy("/fresh")).status).toBe(404);

  await write("DELETE", `/routes/${route.id}`);
  expect((await tg.proxy("/renamed")).status).toBe(404);
});

test("Prefer: respond-async answers at once, without waiting for the proxy", async () => {
  const res = await tg.admin("/services", {
    method: "POST",
    headers: { prefer: "respond-async" },
    body: { name: "async-write", url: blue.url },
  });
  expect(res.status).toBe(201);
  expect(res.headers.get("preference-applied")).toBe("respond-async");
  expect(res.headers.get("x-portico-config-applied")).toBeNull();
  expect(Number(res.headers.get("x-portico-config-version"))).toBeGreaterThan(0);
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
