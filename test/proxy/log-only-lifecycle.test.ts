// A route whose plugins only log (no access or response hook, like prometheus) is forwarded as a route without
// plugins, and its upstream call settles the request's log record itself: every way such a request ends
// (a declared length, a streamed body of unknown length, HEAD, a refused upstream) reaches the log hook with
// its status and body size, and the snapshot's plugin instances stay alive until the last such request's log
// hook has run. Real listener, real upstreams, a test-only plugin (a catalog of its own).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PluginCatalog } from "../../src/plugins/catalog.ts";
import type { AnyPluginDescriptor } from "../../src/plugins/contract.ts";
import { buildSnapshot } from "../../src/proxy/snapshot.ts";
import type { Service } from "../../src/schemas/services.ts";
import { plugin, route, service } from "./entity-fixtures.ts";
import { servePlugins, startUpstream, type Upstream } from "./helpers.ts";

/** What happened, in order: each log hook's request (route, status, source, body bytes), and the cleanup. */
const events: string[] = [];

const counter: AnyPluginDescriptor = {
  name: "counter",
  priority: 10,
  version: "1",
  config: { parse: (v: unknown) => v } as unknown as AnyPluginDescriptor["config"],
  scoping: { consumer: true, route: true, service: true },
  compile: () => ({
    logReads: "sizes",
    log(_ctx, entry) {
      events.push(`${entry.route?.name} ${entry.status} ${entry.source} ${entry.bodySize}`);
    },
    cleanup: () => void events.push("cleanup"),
  }),
};
const catalog: PluginCatalog = new Map([[counter.name, counter]]);

const upstreams: Upstream[] = [];
/** Holds the slow upstream's answer until the test lets it go. */
const slowGate = Promise.withResolvers<void>();
let world: ReturnType<typeof servePlugins>;
let services: Service[];

beforeAll(() => {
  const sized = startUpstream(() => new Response("s".repeat(100)));
  const streamed = startUpstream(
    () =>
      new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("x".repeat(1000)));
            await Bun.sleep(5);
            controller.enqueue(new TextEncoder().encode("y".repeat(234)));
            controller.close();
          },
        }),
      ),
  );
  const slow = startUpstream(async () => {
    await slowGate.promise;
    return new Response("slow");
  });
  upstreams.push(sized, streamed, slow);
  services = [
    service(sized.url, "sized", 0),
    service(streamed.url, "streamed", 0),
    service(slow.url, "slow", 0),
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    service("http://127.0.0.1:9", "dead", 0),
  ];
  const routes = services.map((svc) => route([`/${svc.name}`], svc, svc.name!));
  const plugins = routes.map((r) => plugin("counter", r));
  world = servePlugins(catalog, { version: 1, services, routes, plugins });
});

afterAll(async () => {
  slowGate.resolve();
  await world.server.stop(true);
  for (const u of upstreams) await u.stop();
});

async function logged(count: number): Promise<string[]> {
  for (let i = 0; i < 200 && events.length < count; i++) await Bun.sleep(5);
  return events.splice(0, events.length);
}

describe("a route whose plugins only log", () => {
  test("every way its request ends reaches the log hook, with its status and body size", async () => {
    const answers: [string, string, number, string][] = [
      ["/sized/x", "GET", 200, "s".repeat(100)],
      ["/sized/x", "HEAD", 200, ""],
      ["/streamed/x", "GET", 200, `${"x".repeat(1000)}${"y".repeat(234)}`],
      ["/dead/x", "GET", 502, ""],
    ];
    for (const [path, method, status, text] of answers) {
      const res = await fetch(`${world.base}${path}`, { method });
      expect([path, res.status]).toEqual([path, status]);
      const body = await res.text();
      if (status === 200) expect(body).toBe(text);
    }
    const seen = await logged(4);
    expect(seen.slice(0, 3)).toEqual([
      "sized 200 upstream 100",
      "sized 200 upstream 0",
      "streamed 200 upstream 1234",
    ]);
    // The gateway's own answer: its body is the error message.
    expect(seen[3]).toMatch(/^dead 502 kong \d+$/);
  });

  test("its log hook runs before the retired snapshot's instances are cleaned up", async () => {
    const held = fetch(`${world.base}/slow/x`);
    for (let i = 0; i < 100 && upstreams[2]!.received.length === 0; i++) await Bun.sleep(5);
    expect(upstreams[2]!.received).toHaveLength(1);

    world.proxy.swap(buildSnapshot({ version: 2, services, routes: [], plugins: [] }, world.pool));
    await Bun.sleep(30);
    expect(events).toEqual([]);

    slowGate.resolve();
    const res = await held;
    expect(await res.text()).toBe("slow");
    // One instance per route's plugin, each cleaned up once, after the log hook.
    expect(await logged(5)).toEqual(["slow 200 upstream 4", "cleanup", "cleanup", "cleanup", "cleanup"]);
  });
});
