// A request with plugins holds its snapshot's plugin instances until its answer is produced, on every way
// an answer comes about (forwarded after a synchronous or an awaited access phase, a plugin's answer, a
// plugin that throws, an upstream that refuses): a retired snapshot's instances are cleaned up once, only
// after its last such request — never while one is still running (a request that left twice would let the
// count reach zero early), and always in the end (one that never left would keep them forever). And a
// client that hangs up while an access hook awaits is noticed before the upstream is called. Real listener,
// real upstreams, test-only plugins (a catalog of their own), none of which has a log hook: such a request
// has no log record, and releases through the pipeline itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { PluginCatalog } from "../../src/plugins/catalog.ts";
import type { AnyPluginDescriptor, PluginInstance } from "../../src/plugins/contract.ts";
import type { PluginInstancePool } from "../../src/plugins/instances.ts";
import type { Proxy as ProxyEngine } from "../../src/proxy/index.ts";
import { buildSnapshot } from "../../src/proxy/snapshot.ts";
import type { Service } from "../../src/schemas/services.ts";
import { plugin, route, service } from "./entity-fixtures.ts";
import { servePlugins, startUpstream, type Upstream } from "./helpers.ts";

const cleanups: string[] = [];

/** A test plugin whose cleanup is recorded, with the access hook given. */
function probe(name: string, access: NonNullable<PluginInstance["access"]>): AnyPluginDescriptor {
  return {
    name,
    priority: 1000,
    version: "1",
    config: { parse: (v: unknown) => v } as unknown as AnyPluginDescriptor["config"],
    scoping: { consumer: true, route: true, service: true },
    compile: () => ({ access, cleanup: () => void cleanups.push(name) }),
  };
}

/** What every probe does with the test's headers: answer, throw, or let the request through. */
function decide(request: Request): Response | undefined {
  if (request.headers.has("x-throw")) throw new Error("probe broke");
  if (request.headers.has("x-answer")) return new Response("answered", { status: 403 });
  return undefined;
}

/** Milliseconds the awaiting probe waits before deciding (a client may hang up meanwhile). */
let awaitMs = 0;

const catalog: PluginCatalog = new Map(
  [
    probe("sync-probe", (ctx) => decide(ctx.request)),
    probe("async-probe", async (ctx) => {
      await Bun.sleep(awaitMs);
      return decide(ctx.request);
    }),
  ].map((d) => [d.name, d]),
);

let upstream: Upstream;
let slow: Upstream;
/** Lets the slow upstream's waiting requests answer. */
let releaseSlow: () => void = () => {};
const slowGate = new Promise<void>((resolve) => {
  releaseSlow = resolve;
});
let proxy: ProxyEngine;
let server: Server<unknown>;
let base: string;
let pool: PluginInstancePool;
let services: Service[];
const reports: string[] = [];

beforeAll(() => {
  upstream = startUpstream();
  slow = startUpstream(async () => {
    await slowGate;
    return new Response("slow");
  });
  const svc = service(upstream.url, "echo", 0);
  const slowSvc = service(slow.url, "slow", 0);
  // Port 9 (discard) on loopback: nothing listens, the connection is refused.
  const dead = service("http://127.0.0.1:9", "dead", 0);
  services = [svc, slowSvc, dead];
  const routes = [
    route(["/sync"], svc, "sync"),
    route(["/async"], svc, "async"),
    route(["/slow"], slowSvc, "slow"),
    route(["/dead-sync"], dead, "dead-sync"),
    route(["/dead-async"], dead, "dead-async"),
  ];
  const plugins = routes.map((r) => plugin(r.name!.includes("async") ? "async-probe" : "sync-probe", r));
  ({ proxy, pool, server, base } = servePlugins(catalog, { version: 1, services, routes, plugins }, (line) =>
    reports.push(line),
  ));
});

afterAll(async () => {
  releaseSlow();
  await server.stop(true);
  await upstream.stop();
  await slow.stop();
});

describe("a request with plugins and no log record holds the snapshot's plugin instances", () => {
  test("until its answer is produced, on every path, and lets them go exactly once", async () => {
    // One request stays in flight on the snapshot about to be retired.
    const held = fetch(`${base}/slow/x`);
    for (let i = 0; i < 100 && slow.received.length === 0; i++) await Bun.sleep(5);
    expect(slow.received).toHaveLength(1);

    // Every other way a request with plugins ends, each finished before the retirement.
    const answers: [string, Record<string, string>, number][] = [
      ["/sync/x", {}, 200],
      ["/async/x", {}, 200],
      ["/sync/x", { "x-answer": "1" }, 403],
      ["/async/x", { "x-answer": "1" }, 403],
      ["/sync/x", { "x-throw": "1" }, 500],
      ["/async/x", { "x-throw": "1" }, 500],
      ["/dead-sync/x", {}, 502],
      ["/dead-async/x", {}, 502],
    ];
    for (const [path, headers, status] of answers) {
      const res = await fetch(`${base}${path}`, { headers });
      expect([path, res.status]).toEqual([path, status]);
      await res.text();
    }
    expect(reports.filter((line) => line.includes("probe broke"))).toHaveLength(2);

    // A configuration without plugins retires the snapshot: its instances go once the held request is done.
    proxy.swap(buildSnapshot({ version: 2, services, routes: [], plugins: [] }, pool));
    await Bun.sleep(30);
    expect(cleanups).toEqual([]);

    releaseSlow();
    const res = await held;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("slow");
    for (let i = 0; i < 100 && cleanups.length < 5; i++) await Bun.sleep(5);
    await Bun.sleep(30);
    expect(cleanups.sort()).toEqual(["async-probe", "async-probe", "sync-probe", "sync-probe", "sync-probe"]);
  });
});

describe("a client that hangs up while an access hook awaits", () => {
  test("is noticed before the upstream is called", async () => {
    const routes = [route(["/async"], services[0]!, "async-again")];
    proxy.swap(
      buildSnapshot({ version: 3, services, routes, plugins: [plugin("async-probe", routes[0]!)] }, pool),
    );
    awaitMs = 150;
    const before = upstream.received.length;
    const controller = new AbortController();
    const gone = fetch(`${base}/async/x`, { signal: controller.signal }).catch((error) => error);
    await Bun.sleep(40);
    controller.abort();
    expect(await gone).toBeInstanceOf(Error);
    await Bun.sleep(400);
    expect(upstream.received.length).toBe(before);
    // The route still serves.
    awaitMs = 0;
    const res = await fetch(`${base}/async/y`);
    expect(res.status).toBe(200);
    await res.text();
    expect(upstream.received.length).toBe(before + 1);
  });
});
