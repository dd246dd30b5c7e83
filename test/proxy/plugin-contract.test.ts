// The plugin contract's response headers and log phase, through a real proxy listener and real upstreams,
// with test-only plugins (a catalog of their own): headers set during access reach every response that goes
// out (the upstream's, a plugin's answer, a gateway error), and every plugin's log hook gets the request's
// log entry (status, source, latencies, sizes, tries, Kong's serializer record) after the response.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { PluginCatalog } from "../../src/plugins/catalog.ts";
import type { AnyPluginDescriptor, LogEntry, LogRecord } from "../../src/plugins/contract.ts";
import { PluginInstancePool, standaloneEnv } from "../../src/plugins/instances.ts";
import { createProxy, type Proxy as ProxyEngine } from "../../src/proxy/index.ts";
import { buildSnapshot } from "../../src/proxy/snapshot.ts";
import { plugin, route, service } from "./entity-fixtures.ts";
import { serveProxy, startUpstream, type Upstream } from "./helpers.ts";

/** What the log hooks saw: plugin name, the entry's facts, and its serializer record. */
type Seen = { plugin: string; entry: LogEntry; record: LogRecord };
const seen: Seen[] = [];

function recorder(
  name: string,
  priority: number,
  access?: AnyPluginDescriptor["compile"],
): AnyPluginDescriptor {
  return {
    name,
    priority,
    version: "1",
    config: { parse: (v: unknown) => v } as unknown as AnyPluginDescriptor["config"],
    scoping: { consumer: true, route: true, service: true },
    compile(config, env, scope) {
      const instance = access ? access(config, env, scope) : {};
      return {
        ...instance,
        log(_ctx, entry) {
          seen.push({ plugin: name, entry, record: entry.serialize() });
        },
      };
    },
  };
}

const catalog: PluginCatalog = new Map(
  [
    // Sets two headers (the second value of x-probe wins) and answers 403 when asked to.
    recorder("probe", 1000, () => ({
      access(ctx) {
        ctx.setResponseHeader("x-probe", "first");
        ctx.setResponseHeader("x-probe", "second");
        ctx.setResponseHeader("x-probe-other", "yes");
        ctx.setSerializeValue("probe_field", { set: "by probe" });
        if (ctx.request.headers.has("x-answer")) return ctx.respond(403, "answered by probe");
        if (ctx.request.headers.has("x-throw")) throw new Error("probe broke");
        return undefined;
      },
    })),
    // Runs after probe (lower priority); only logs.
    recorder("listener", 10),
  ].map((d) => [d.name, d]),
);

let upstream: Upstream;
let chunked: Upstream;
let proxy: ProxyEngine;
let server: Server<unknown>;
let base: string;
const reports: string[] = [];

async function waitForLogs(count: number): Promise<[Seen, ...Seen[]]> {
  for (let i = 0; i < 400 && seen.length < count; i++) await Bun.sleep(5);
  expect(seen.length).toBe(count);
  return seen.splice(0, seen.length) as [Seen, ...Seen[]];
}

beforeAll(() => {
  upstream = startUpstream();
  chunked = startUpstream(
    () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("x".repeat(1000)));
            controller.enqueue(new TextEncoder().encode("y".repeat(234)));
            controller.close();
          },
        }),
      ),
  );
  const svc = service(upstream.url, "echo");
  const stream = service(chunked.url, "chunked");
  // Port 9 (discard) on loopback: nothing listens, the connection is refused.
  const dead = service("http://127.0.0.1:9", "dead");
  const routes = [
    route(["/echo"], svc, "echo"),
    route(["/chunked"], stream, "chunked"),
    route(["/dead"], dead, "dead"),
  ];
  const plugins = routes.flatMap((r) => [plugin("probe", r), plugin("listener", r)]);
  proxy = createProxy({ bodyLimit: 1024 * 1024, report: (line) => reports.push(line) });
  const pool = new PluginInstancePool(
    standaloneEnv(() => {}),
    catalog,
  );
  proxy.swap(buildSnapshot({ version: 1, services: [svc, stream, dead], routes, plugins }, pool));
  server = serveProxy(proxy);
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.stop(true);
  await upstream.stop();
  await chunked.stop();
});

describe("response headers set during access", () => {
  test("reach the upstream's response; a later value replaces an earlier one", async () => {
    const res = await fetch(`${base}/echo/x`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-probe")).toBe("second");
    expect(res.headers.get("x-probe-other")).toBe("yes");
    await res.text();
    await waitForLogs(2);
  });

  test("reach a plugin's own answer", async () => {
    const res = await fetch(`${base}/echo/x`, { headers: { "x-answer": "1" } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      message: "answered by probe",
      request_id: res.headers.get("x-portico-request-id"),
    });
    expect(res.headers.get("x-probe")).toBe("second");
    await waitForLogs(2);
  });

  test("reach a gateway error after access (502, upstream refused)", async () => {
    const res = await fetch(`${base}/dead/x`);
    expect(res.status).toBe(502);
    expect(res.headers.get("x-probe")).toBe("second");
    await res.text();
    await waitForLogs(2);
  });

  test("reach the 500 of a plugin that throws, and the proxy keeps serving", async () => {
    const res = await fetch(`${base}/echo/x`, { headers: { "x-throw": "1" } });
    expect(res.status).toBe(500);
    expect((await res.json()).message).toBe("An unexpected error occurred");
    expect(res.headers.get("x-probe")).toBe("second");
    const logs = await waitForLogs(2);
    expect(logs.map((l) => [l.plugin, l.entry.status, l.entry.source])).toEqual([
      ["probe", 500, "kong"],
      ["listener", 500, "kong"],
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(
      `plugin failed on request ${res.headers.get("x-portico-request-id")}: Error: probe broke`,
    );
    expect((await fetch(`${base}/echo/y`)).status).toBe(200);
    await waitForLogs(2);
  });
});

describe("the log phase", () => {
  test("a proxied request: every plugin's log hook gets the entry, in priority order", async () => {
    const res = await fetch(`${base}/echo/path?a=1&b=x%20y&a=2&flag`, {
      headers: { authorization: "Basic secret", "user-agent": "contract-test" },
    });
    const body = await res.text();
    const logs = await waitForLogs(2);
    expect(logs.map((l) => l.plugin)).toEqual(["probe", "listener"]);
    const { entry, record } = logs[0]!;
    expect(logs[1]!.entry).toBe(entry);
    expect(entry.status).toBe(200);
    expect(entry.source).toBe("upstream");
    expect(entry.method).toBe("GET");
    expect(entry.requestId).toBe(res.headers.get("x-portico-request-id")!);
    expect(entry.route?.name).toBe("echo");
    expect(entry.service?.name).toBe("echo");
    expect(entry.service?.host).toBe("127.0.0.1");
    expect(entry.consumer).toBeNull();
    const { kong, proxy: upstreamWait, request, receive } = entry.latencies;
    expect(kong).toBeGreaterThanOrEqual(0);
    expect(upstreamWait).toBeGreaterThanOrEqual(0);
    expect(request).toBeGreaterThanOrEqual(kong + upstreamWait - 1);
    expect(receive).toBe(0);
    // The body size is the upstream's Content-Length; the headers are counted on top.
    expect(entry.responseSize).toBeGreaterThan(Buffer.byteLength(body) + 100);
    expect(record.response.size).toBe(entry.responseSize);
    expect(record.request.size).toBe(entry.requestSize);
    expect(entry.requestSize).toBeGreaterThan("GET /echo/path?a=1&b=x%20y&a=2&flag HTTP/1.1".length);

    expect(record.request.uri).toBe("/echo/path?a=1&b=x%20y&a=2&flag");
    expect(record.request.url).toBe(`http://127.0.0.1:${server.port}/echo/path?a=1&b=x%20y&a=2&flag`);
    expect(record.request.querystring).toEqual({ a: ["1", "2"], b: "x y", flag: true });
    expect(record.request.method).toBe("GET");
    // The client's headers as received, credentials redacted (Kong's serializer).
    expect(record.request.headers.authorization).toBe("REDACTED");
    expect(record.request.headers["user-agent"]).toBe("contract-test");
    expect(record.request.headers["x-forwarded-for"]).toBeUndefined();
    expect(record.upstream_uri).toBe("/path?a=1&b=x%20y&a=2&flag");
    expect(record.upstream_status).toBe("200");
    expect(record.response.status).toBe(200);
    expect(record.response.headers["x-probe"]).toBe("second");
    expect(record.tries).toHaveLength(1);
    expect(record.tries[0]).toMatchObject({ ip: "127.0.0.1", port: upstream.port });
    expect(record.tries[0]!.state).toBeUndefined();
    expect(Math.abs(record.tries[0]!.balancer_start - Date.now())).toBeLessThan(10_000);
    expect(record.route).toMatchObject({ name: "echo" });
    expect(record.service).toMatchObject({ name: "echo", host: "127.0.0.1" });
    expect(record.consumer).toBeUndefined();
    expect(record.client_ip).toBe("127.0.0.1");
    expect(record.source).toBe("upstream");
    expect(record.workspace_name).toBe("default");
    expect(Math.abs(record.started_at - Date.now())).toBeLessThan(10_000);
    // A field a plugin added (Kong's kong.log.set_serialize_value).
    expect(record.probe_field).toEqual({ set: "by probe" });
  });

  test("a plugin's answer: source kong, no upstream wait, the body's size", async () => {
    const res = await fetch(`${base}/echo/x`, { headers: { "x-answer": "1" } });
    const text = await res.text();
    const [{ entry, record }] = await waitForLogs(2);
    expect(entry.status).toBe(403);
    expect(entry.source).toBe("kong");
    expect(entry.latencies.proxy).toBe(-1);
    expect(record.tries).toEqual([]);
    expect(record.upstream_status).toBe("");
    const headerBytes = [...res.headers].reduce((sum, [k, v]) => sum + k.length + v.length + 4, 0);
    // Bun adds a Date header of its own after the log phase has seen the response.
    expect(entry.responseSize - Buffer.byteLength(text)).toBeGreaterThanOrEqual(headerBytes - 40);
  });

  test("an upstream that refuses: each attempt is a failed try (retries: 1)", async () => {
    const res = await fetch(`${base}/dead/x`);
    await res.text();
    const [{ entry, record }] = await waitForLogs(2);
    expect(entry.status).toBe(502);
    expect(entry.source).toBe("kong");
    expect(record.tries).toHaveLength(2);
    expect(record.tries.map((t) => [t.state, t.code, t.port])).toEqual([
      ["failed", 502, 9],
      ["failed", 502, 9],
    ]);
  });

  test("a streamed (chunked) upstream body is counted as it passes, and logged after its last byte", async () => {
    const res = await fetch(`${base}/chunked/x`);
    expect(res.headers.get("content-length")).toBeNull();
    expect(await res.text()).toBe(`${"x".repeat(1000)}${"y".repeat(234)}`);
    const [{ entry }] = await waitForLogs(2);
    expect(entry.status).toBe(200);
    expect(entry.latencies.receive).toBeGreaterThanOrEqual(0);
    const headerBytes = [...res.headers].reduce((sum, [k, v]) => sum + k.length + v.length + 4, 0);
    expect(entry.responseSize).toBeGreaterThanOrEqual(1234 + headerBytes - 60);
    expect(entry.responseSize).toBeLessThan(1234 + headerBytes + 60);
  });

  test("a chunked upload is counted in the request size", async () => {
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("a".repeat(3000)));
        controller.close();
      },
    });
    const res = await fetch(`${base}/echo/up`, {
      method: "POST",
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(200);
    await res.text();
    const [{ entry }] = await waitForLogs(2);
    expect(entry.requestSize).toBeGreaterThan(3000);
    expect(entry.requestSize).toBeLessThan(3600);
  });
});
