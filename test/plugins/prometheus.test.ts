// Black-box: /metrics on the admin and status listeners (Kong's names, labels and buckets, parsed by a strict
// Prometheus parser), the prometheus plugin's opt-in groups, metrics summed over proxy workers, the status
// listener's limits, and /status/ready (ready, draining, a first build that failed).
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { startUpstream, type Upstream } from "../proxy/helpers.ts";
import { type Family, parsePrometheus, sampleValue } from "../support/prometheus.ts";
import { admin, burst, type PluginWorld, startWorld } from "./helpers.ts";

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
  return parsePrometheus(await res.text());
}

const KONG_BUCKETS = [
  "1",
  "2",
  "5",
  "7",
  "10",
  "15",
  "20",
  "30",
  "50",
  "75",
  "100",
  "200",
  "500",
  "750",
  "1000",
  "3000",
  "6000",
  "+Inf",
];
const UPSTREAM_BUCKETS = [
  "25",
  "50",
  "80",
  "100",
  "250",
  "400",
  "700",
  "1000",
  "2000",
  "5000",
  "10000",
  "30000",
  "60000",
  "+Inf",
];

describe("node-level metrics, always there", () => {
  let w: PluginWorld;
  beforeAll(async () => {
    w = await startWorld();
    await w.service("plain", ["/plain"]);
    await w.synced();
  });
  afterAll(() => w.stop());

  test("without a prometheus plugin: Kong's node series only", async () => {
    for (let i = 0; i < 3; i++) await w.pass("/plain");
    const families = await scrape(w.tg.adminUrl);
    const node = await admin(w.tg, "GET", "/");
    expect(sampleValue(families, "kong_node_info", { node_id: node.node_id, version: node.version })).toBe(1);
    expect(families.get("kong_node_info")!.type).toBe("gauge");
    expect(
      sampleValue(families, "kong_nginx_requests_total", { node_id: node.node_id, subsystem: "http" }),
    ).toBeGreaterThanOrEqual(4);
    expect(sampleValue(families, "kong_nginx_connections_total", { state: "active" })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sampleValue(families, "kong_nginx_connections_total", { state: "total" })).toBeGreaterThanOrEqual(
      4,
    );
    expect(sampleValue(families, "kong_datastore_reachable")).toBe(1);
    expect(
      sampleValue(families, "kong_memory_workers_lua_vms_bytes", { kong_subsystem: "http" }),
    ).toBeGreaterThan(0);
    expect(
      sampleValue(families, "kong_memory_lua_shared_dict_total_bytes", {
        shared_dict: "kong_rate_limiting_counters",
      }),
    ).toBeGreaterThan(1_000_000);
    expect(
      sampleValue(families, "kong_memory_lua_shared_dict_bytes", {
        shared_dict: "kong_rate_limiting_counters",
      }),
    ).toBe(0);
    for (const name of ["kong_http_requests_total", "kong_kong_latency_ms", "kong_bandwidth_bytes"])
      expect(families.has(name)).toBe(false);
  });
});

describe("the prometheus plugin", () => {
  let w: PluginWorld;
  let failing: Upstream;
  beforeAll(async () => {
    w = await startWorld();
    failing = startUpstream(() => new Response("broken", { status: 500 }));
    await w.service("echo-svc", ["/echo"]);
    const bad = await admin(w.tg, "POST", "/services", { name: "bad-svc", url: failing.url });
    await admin(w.tg, "POST", `/services/${bad.id}/routes`, { name: "bad-route", paths: ["/bad"] });
    const keyed = await w.service("keyed-svc", ["/keyed"]);
    await admin(w.tg, "POST", `/routes/${keyed.routes[0]}/plugins`, { name: "key-auth" });
    await w.consumer({ username: "metered" });
    await admin(w.tg, "POST", "/consumers/metered/key-auth", { key: "metered-key" });
    await admin(w.tg, "POST", "/plugins", {
      name: "prometheus",
      config: {
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        per_consumer: true,
      },
    });
    await w.synced();
  });
  afterAll(async () => {
    await w.stop();
    await failing.stop();
  });

  test("status codes by service, route, code and source; latencies with Kong's buckets; bandwidth", async () => {
    for (let i = 0; i < 4; i++) await w.pass("/echo");
    expect((await w.call("/bad")).status).toBe(500);
    expect((await w.call("/keyed")).status).toBe(401);
    expect((await w.call("/keyed", { headers: { apikey: "metered-key" } })).status).toBe(200);
    // No route: Kong counts nothing per route for it.
    expect((await w.call("/nowhere")).status).toBe(404);
    await Bun.sleep(50);
    const families = await scrape(w.tg.adminUrl);
    const echoRoute = (await admin(w.tg, "GET", "/services/echo-svc/routes")).data[0].id;
    const common = { workspace: "default" };
    expect(
      sampleValue(families, "kong_http_requests_total", {
        ...common,
        service: "echo-svc",
        route: echoRoute,
        code: "200",
        source: "service",
        consumer: "",
      }),
    ).toBe(4);
    expect(
      sampleValue(families, "kong_http_requests_total", {
        service: "bad-svc",
        route: "bad-route",
        code: "500",
        source: "service",
      }),
    ).toBe(1);
    expect(
      sampleValue(families, "kong_http_requests_total", {
        service: "keyed-svc",
        code: "401",
        source: "kong",
        consumer: "",
      }),
    ).toBe(1);
    expect(
      sampleValue(families, "kong_http_requests_total", {
        service: "keyed-svc",
        code: "200",
        consumer: "metered",
      }),
    ).toBe(1);
    expect(families.get("kong_http_requests_total")!.samples.some((s) => s.labels.code === "404")).toBe(
      false,
    );

    const buckets = (name: string) =>
      families
        .get(name)!
        .samples.filter((s) => s.name === `${name}_bucket` && s.labels.route === echoRoute)
        .map((s) => s.labels.le);
    expect(buckets("kong_kong_latency_ms")).toEqual(KONG_BUCKETS);
    expect(buckets("kong_upstream_latency_ms")).toEqual(UPSTREAM_BUCKETS);
    expect(buckets("kong_request_latency_ms")).toEqual(UPSTREAM_BUCKETS);
    expect(
      sampleValue(families, "kong_request_latency_ms_count", {
        route: echoRoute,
        service: "echo-svc",
        workspace: "default",
      }),
    ).toBe(4);
    expect(sampleValue(families, "kong_upstream_latency_ms_count", { route: echoRoute })).toBe(4);
    // The 401 never reached an upstream: no upstream latency for it, but gateway and total latency.
    expect(sampleValue(families, "kong_kong_latency_ms_count", { service: "keyed-svc" })).toBe(2);
    expect(sampleValue(families, "kong_upstream_latency_ms_count", { service: "keyed-svc" })).toBe(1);
    expect(
      sampleValue(families, "kong_bandwidth_bytes", { route: echoRoute, direction: "ingress", consumer: "" }),
    ).toBeGreaterThan(4 * 40);
    expect(
      sampleValue(families, "kong_bandwidth_bytes", { route: echoRoute, direction: "egress" }),
    ).toBeGreaterThan(4 * 100);
    expect(families.get("kong_bandwidth_bytes")!.type).toBe("counter");
    expect(families.get("kong_request_latency_ms")!.type).toBe("histogram");
  });

  test("flags off (Kong's defaults): the plugin adds no per-request series", async () => {
    const own = await startWorld();
    try {
      await own.service("quiet", ["/quiet"]);
      await admin(own.tg, "POST", "/plugins", { name: "prometheus" });
      await own.synced();
      await own.pass("/quiet");
      const families = await scrape(own.tg.adminUrl);
      expect(families.has("kong_http_requests_total")).toBe(false);
      expect(families.has("kong_kong_latency_ms")).toBe(false);
      expect(families.has("kong_node_info")).toBe(true);
    } finally {
      await own.stop();
    }
  });
});

describe("a route whose only plugin is prometheus (its record is settled by the upstream call itself)", () => {
  let node: TestGateway;
  const upstreams: Upstream[] = [];
  const body = (size: number, letter: string) => letter.repeat(size);
  beforeAll(async () => {
    const sized = startUpstream(() => new Response(body(100, "s")));
    // No Content-Length: counted as it passes, logged after its last byte.
    const streamed = startUpstream(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode(body(1000, "x")));
              controller.enqueue(new TextEncoder().encode(body(234, "y")));
              controller.close();
            },
          }),
        ),
    );
    // In the large-response window: buffered and answered in one chunk.
    const large = startUpstream(() => new Response(body(20_000, "l")));
    upstreams.push(sized, streamed, large);
    node = await startTestGateway();
    const routes: [string, string][] = [
      ["sized", sized.url],
      ["streamed", streamed.url],
      ["large", large.url],
      ["head", large.url],
      // Nothing listens on the discard port: refused, the gateway's 502.
      ["dead", "http://127.0.0.1:9"],
    ];
    for (const [name, url] of routes) {
      const svc = await admin(node, "POST", "/services", { name: `${name}-svc`, url, retries: 0 });
      const route = await admin(node, "POST", `/services/${svc.id}/routes`, { name, paths: [`/${name}`] });
      await admin(node, "POST", `/routes/${route.id}/plugins`, {
        name: "prometheus",
        config: {
          status_code_metrics: true,
          latency_metrics: true,
          bandwidth_metrics: true,
          upstream_health_metrics: true,
        },
      });
    }
    if (!(await node.gateway.synced())) throw new Error("not synced");
  });
  afterAll(async () => {
    await node.stop();
    for (const u of upstreams) await u.stop();
  });

  test("every kind of answer is counted: status, source, latencies, and bandwidth with its body bytes", async () => {
    const get = async (path: string, method = "GET") => {
      const res = await fetch(`${node.proxyUrl}${path}`, { method });
      return { status: res.status, text: await res.text() };
    };
    for (let i = 0; i < 3; i++) expect(await get("/sized")).toEqual({ status: 200, text: body(100, "s") });
    for (let i = 0; i < 2; i++)
      expect(await get("/streamed")).toEqual({ status: 200, text: body(1000, "x") + body(234, "y") });
    expect(await get("/large")).toEqual({ status: 200, text: body(20_000, "l") });
    expect(await get("/head", "HEAD")).toEqual({ status: 200, text: "" });
    expect((await get("/dead")).status).toBe(502);
    await Bun.sleep(50);
    const families = await scrape(node.adminUrl);
    const count = (route: string, code: string, source: string) =>
      sampleValue(families, "kong_http_requests_total", { route, code, source });
    expect(count("sized", "200", "service")).toBe(3);
    expect(count("streamed", "200", "service")).toBe(2);
    expect(count("large", "200", "service")).toBe(1);
    expect(count("head", "200", "service")).toBe(1);
    expect(count("dead", "502", "kong")).toBe(1);
    const latencies = (name: string, route: string) => sampleValue(families, `${name}_count`, { route });
    for (const [route, n] of [
      ["sized", 3],
      ["streamed", 2],
      ["large", 1],
      ["head", 1],
      ["dead", 1],
    ] as const) {
      expect(latencies("kong_request_latency_ms", route)).toBe(n);
      expect(latencies("kong_kong_latency_ms", route)).toBe(n);
      // The request line and the client's headers, at least.
      const ingress = sampleValue(families, "kong_bandwidth_bytes", { route, direction: "ingress" });
      expect(ingress).toBeGreaterThan(n * `GET /${route} HTTP/1.1\r\n`.length);
      expect(ingress).toBeLessThan(n * 400);
    }
    // The refused request never had an upstream answer.
    expect(latencies("kong_upstream_latency_ms", "dead")).toBe(0);
    expect(latencies("kong_upstream_latency_ms", "sized")).toBe(3);
    // Egress: each answer's body bytes (none for HEAD) and its status line and headers (under 400 bytes).
    const egress = (route: string) =>
      sampleValue(families, "kong_bandwidth_bytes", { route, direction: "egress" });
    const within = (route: string, bodies: number, answers: number) => {
      expect(egress(route)).toBeGreaterThan(bodies + answers * 100);
      expect(egress(route)).toBeLessThan(bodies + answers * 400);
    };
    within("sized", 3 * 100, 3);
    within("streamed", 2 * 1234, 2);
    within("large", 20_000, 1);
    within("head", 0, 1);
    within("dead", 0, 1);
  });
});

describe("a node with several proxy workers", () => {
  let upstream: Upstream;
  let node: TestGateway;
  beforeAll(async () => {
    upstream = startUpstream();
    node = await startTestGateway(["--workers", "3", "--status-listen", "127.0.0.1:0"]);
    const svc = await admin(node, "POST", "/services", { name: "spread", url: upstream.url });
    await admin(node, "POST", `/services/${svc.id}/routes`, { name: "spread-route", paths: ["/spread"] });
    await admin(node, "POST", "/plugins", { name: "prometheus", config: { status_code_metrics: true } });
    if (!(await node.gateway.synced())) throw new Error("not synced");
  });
  afterAll(async () => {
    await node.stop();
    await upstream.stop();
  });

  test("series are summed over the workers; each worker's heap is its own series", async () => {
    const statuses = await burst(30, () =>
      fetch(`${node.proxyUrl}/spread`, { headers: { connection: "close" } }),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    await Bun.sleep(50);
    for (const url of [node.adminUrl, node.gateway.statusUrl!]) {
      const families = await scrape(url);
      expect(sampleValue(families, "kong_http_requests_total", { route: "spread-route", code: "200" })).toBe(
        30,
      );
      expect(families.get("kong_memory_workers_lua_vms_bytes")!.samples).toHaveLength(3);
    }
  });
});

describe("the status listener and /status/ready", () => {
  let tg: TestGateway;
  let status: string;
  beforeAll(async () => {
    tg = await startTestGateway(["--status-listen", "127.0.0.1:0"]);
    status = tg.gateway.statusUrl!;
  });
  afterAll(() => tg.stop());

  test("serves /status, /status/ready and /metrics, and nothing that configures", async () => {
    expect((await fetch(`${status}/status`)).status).toBe(200);
    expect((await (await fetch(`${status}/status`)).json()).database).toEqual({ reachable: true });
    const notFound = await fetch(`${status}/services`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ message: "Not found" });
    const write = await fetch(`${status}/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x", url: "http://x" }),
    });
    expect(write.status).toBe(404);
    expect((await fetch(`${status}/`)).status).toBe(404);
  });

  test("ready on both listeners; draining makes it 503 'draining' while the node keeps serving", async () => {
    for (const base of [status, tg.adminUrl]) {
      const res = await fetch(`${base}/status/ready`);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 200,
        body: { message: "ready" },
      });
    }
    const refused = await fetch(`${status}/status/ready`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: "sleepy" }),
    });
    expect({ status: refused.status, body: await refused.json() }).toEqual({
      status: 400,
      body: { message: "expected status=draining" },
    });
    const drained = await fetch(`${status}/status/ready`, {
      method: "POST",
      body: new URLSearchParams({ status: "draining" }),
    });
    expect(drained.status).toBe(204);
    for (const base of [status, tg.adminUrl]) {
      const res = await fetch(`${base}/status/ready`);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 503,
        body: { message: "draining" },
      });
    }
    expect((await fetch(`${tg.adminUrl}/status`)).status).toBe(200);
  });
});

test("/status/ready is 503 'router builds not yet complete' while no configuration could be built", async () => {
  // A database whose plugin rows cannot be read: the node starts, but no snapshot can be loaded.
  const first = await startTestGateway();
  const database = first.databasePath;
  await first.gateway.stop();
  const raw = new Database(database);
  raw.run(
    `INSERT INTO plugins (id, created_at, updated_at, name, instance_name, route_id, service_id, consumer_id,
       config, protocols, enabled, tags)
     VALUES ('00000000-0000-4000-8000-000000000001', 0, 0, 'prometheus', NULL, NULL, NULL, NULL, '{not json', '["http"]', 1, NULL)`,
  );
  raw.close();
  const tg = await startTestGateway(["--status-listen", "127.0.0.1:0"], database);
  try {
    const res = await fetch(`${tg.gateway.statusUrl}/status/ready`);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 503,
      body: { message: "router builds not yet complete" },
    });
  } finally {
    await tg.stop();
  }
});
