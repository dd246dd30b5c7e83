// Black-box: http-log sends Kong's log record to a real HTTP collector (Bun.serve) — one object per request or
// a JSON array per batch, with the configured method, content type, headers and Basic credentials — retries a
// failing collector, and a dead one never touches proxied traffic (its bounded queue drops and says so).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGateway } from "../harness.ts";
import { configure } from "../proxy/helpers.ts";
import { admin, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

type Received = { method: string; path: string; headers: Record<string, string>; body: string };

const dir = mkdtempSync(join(tmpdir(), "portico-http-log-"));
const errors = join(dir, "error.log");
let w: PluginWorld;
let collector: ReturnType<typeof Bun.serve>;
const received: Received[] = [];
/** Answers per path still to be failed with a 500 before the collector accepts. */
const failuresLeft = new Map<string, number>();

beforeAll(async () => {
  collector = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      received.push({
        method: request.method,
        path,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      });
      const left = failuresLeft.get(path) ?? 0;
      if (left > 0) {
        failuresLeft.set(path, left - 1);
        return new Response("not now", { status: 500 });
      }
      return new Response("ok");
    },
  });
  w = await startWorld(["--error-log", errors]);
});

afterAll(async () => {
  await w.stop();
  collector.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** What the collector received on `path`, once there are `count` requests (polled). */
async function collected(path: string, count: number): Promise<Received[]> {
  for (let i = 0; i < 400; i++) {
    const got = received.filter((r) => r.path === path);
    if (got.length >= count) return got;
    await Bun.sleep(25);
  }
  throw new Error(
    `the collector got ${received.filter((r) => r.path === path).length} of ${count} on ${path}`,
  );
}

async function errorLine(needle: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const line = (existsSync(errors) ? readFileSync(errors, "utf8") : "")
      .split("\n")
      .find((l) => l.includes(needle));
    if (line !== undefined) return line;
    await Bun.sleep(25);
  }
  throw new Error(
    `no error-log line with ${needle}:\n${existsSync(errors) ? readFileSync(errors, "utf8") : ""}`,
  );
}

const collectorUrl = (path: string, userinfo = "") => `http://${userinfo}127.0.0.1:${collector.port}${path}`;

describe("http-log", () => {
  test("one request, one object: Kong's log record, the configured method, content type, headers and credentials", async () => {
    const { id: serviceId, routes } = await w.service("logged", ["/logged"]);
    const routeId = routes[0]!;
    await admin(w.tg, "POST", `/routes/${routeId}/plugins`, {
      name: "http-log",
      config: {
        http_endpoint: collectorUrl("/single", "user:pa%20ss@"),
        method: "PUT",
        content_type: "application/json; charset=utf-8",
        headers: { "X-Tag": "t1" },
        custom_fields: {
          tenant: "$(request.headers.x-tenant)",
          who: "consumer $(consumer.username)",
          "latency.total": "$(latencies.request)",
        },
      },
    });
    await w.synced();
    const answer = await w.call("/logged/x?a=1&a=2&flag", {
      headers: { authorization: "Bearer secret", "x-tenant": "acme", "user-agent": "http-log-test" },
    });
    expect(answer.status).toBe(200);
    const id = answer.headers.get("x-portico-request-id")!;
    const [sent] = await collected("/single", 1);
    expect(sent!.method).toBe("PUT");
    expect(sent!.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(sent!.headers["x-tag"]).toBe("t1");
    expect(sent!.headers.authorization).toBe(`Basic ${btoa("user:pa ss")}`);
    const record = JSON.parse(sent!.body);
    expect(Object.keys(record).sort()).toEqual(
      [
        "client_ip",
        "latencies",
        "latency",
        "request",
        "response",
        "route",
        "service",
        "source",
        "started_at",
        "tenant",
        "tries",
        "upstream_status",
        "upstream_uri",
        "who",
        "workspace",
        "workspace_name",
      ].sort(),
    );
    const port = new URL(w.tg.proxyUrl).port;
    expect(record.request).toMatchObject({
      id,
      method: "GET",
      uri: "/logged/x?a=1&a=2&flag",
      url: `http://127.0.0.1:${port}/logged/x?a=1&a=2&flag`,
      querystring: { a: ["1", "2"], flag: true },
    });
    expect(record.request.headers).toMatchObject({
      authorization: "REDACTED",
      "x-tenant": "acme",
      "user-agent": "http-log-test",
    });
    expect(record.request.size).toBeGreaterThan(0);
    expect(record.upstream_uri).toBe("/x?a=1&a=2&flag");
    expect(record.upstream_status).toBe("200");
    expect(record.response.status).toBe(200);
    expect(record.route).toEqual({ id: routeId, name: null });
    expect(record.service).toEqual({ id: serviceId, name: "logged", host: "127.0.0.1" });
    expect(record.client_ip).toBe("127.0.0.1");
    expect(record.source).toBe("upstream");
    expect(record.workspace_name).toBe("default");
    expect(record.tries).toHaveLength(1);
    expect(record.tenant).toBe("acme");
    expect(record.who).toBe("consumer ");
    expect(record.latency).toEqual({ total: record.latencies.request });
  });

  test("max_batch_size 3: three requests arrive as one JSON array, in order", async () => {
    await w.service("batched", ["/batched"]);
    await admin(w.tg, "POST", "/services/batched/plugins", {
      name: "http-log",
      config: {
        http_endpoint: collectorUrl("/batch"),
        queue: { max_batch_size: 3, max_coalescing_delay: 3600 },
      },
    });
    await w.synced();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await w.call(`/batched/${i}`);
      expect(answer.status).toBe(200);
      ids.push(answer.headers.get("x-portico-request-id")!);
    }
    const [batch] = await collected("/batch", 1);
    expect(batch!.method).toBe("POST");
    expect(batch!.headers["content-type"]).toBe("application/json");
    const records = JSON.parse(batch!.body);
    expect(records.map((r: { request: { id: string } }) => r.request.id)).toEqual(ids);
    expect(received.filter((r) => r.path === "/batch")).toHaveLength(1);
  });

  test("a collector answering 500 gets the same entry again (exponential backoff) until it takes it", async () => {
    failuresLeft.set("/flaky", 2);
    await w.service("flaky", ["/flaky"]);
    await admin(w.tg, "POST", "/services/flaky/plugins", {
      name: "http-log",
      config: { http_endpoint: collectorUrl("/flaky"), queue: { initial_retry_delay: 0.01 } },
    });
    await w.synced();
    const answer = await w.call("/flaky/once");
    expect(answer.status).toBe(200);
    const attempts = await collected("/flaky", 3);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    expect(JSON.parse(attempts[0]!.body).request.id).toBe(answer.headers.get("x-portico-request-id"));
    const warning = await errorLine(`returned status code 500), retrying in`);
    expect(warning).toContain("[warn]");
    expect(warning).toContain(
      `sending entries failed (request to ${collectorUrl("/flaky")} returned status code 500)`,
    );
  });

  test("a dead collector: proxied traffic is untouched, the queue keeps max_entries and counts what it drops", async () => {
    const dead = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = dead.port;
    dead.stop(true);
    await w.service("dead-collector", ["/dead-collector"]);
    const plugin = await admin(w.tg, "POST", "/services/dead-collector/plugins", {
      name: "http-log",
      config: {
        http_endpoint: `http://127.0.0.1:${port}/nobody`,
        queue: { max_entries: 5, max_retry_time: 3600, initial_retry_delay: 1, max_retry_delay: 1 },
      },
    });
    await w.synced();
    for (let batch = 0; batch < 3; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => w.call(`/dead-collector/${i}`)));
      for (const answer of answers) expect(answer.status).toBe(200);
    }
    const line = await errorLine("queue full, dropping old entries until processing is successful again");
    expect(line).toContain("[error]");
    expect(line).toMatch(
      new RegExp(
        `http-log ${plugin.id}: queue full, dropping old entries until processing is successful again \\(\\d+ entries dropped in all\\)$`,
      ),
    );
    // Removing the plugin stops its queue (no more retries).
    await admin(w.tg, "DELETE", `/plugins/${plugin.id}`);
  });

  test("Kong's validation", async () => {
    expect(await refusedConfig(w, { name: "http-log", config: {} })).toEqual({
      config: { http_endpoint: "required field missing" },
    });
    expect(
      await refusedConfig(w, {
        name: "http-log",
        config: {
          http_endpoint: "http://x.test",
          method: "GET",
          headers: { Host: "y" },
          content_type: "text/plain",
        },
      }),
    ).toEqual({
      config: {
        method: "expected one of: POST, PUT, PATCH",
        headers: "cannot contain 'Host' header",
        content_type: "expected one of: application/json, application/json; charset=utf-8",
      },
    });
    expect(
      await refusedConfig(w, {
        name: "http-log",
        config: { http_endpoint: "http://u:p@x.test", headers: { Authorization: "Bearer t" } },
      }),
    ).toEqual({
      config: "specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed",
    });
    expect(
      await refusedConfig(w, {
        name: "http-log",
        config: { http_endpoint: "x.test/path", custom_fields_by_lua: { a: "return 1" } },
      }),
    ).toEqual({
      config: {
        http_endpoint: "missing scheme in url",
        custom_fields_by_lua:
          'Portico does not run Lua code: use custom_fields templates such as "$(request.headers.x-tenant)"',
      },
    });
    expect(
      await refusedConfig(w, {
        name: "http-log",
        config: { http_endpoint: "http://x.test", custom_fields: { a: "$(os.execute('id'))" } },
      }),
    ).toEqual({
      config: {
        custom_fields: {
          a: "'$(os.execute('id')' is not a field of the log record (expected a dotted path such as request.headers.x-tenant)",
        },
      },
    });
  });

  test("defaults as Kong renders them; the deprecated queue_size and flush_timeout fill the queue", async () => {
    const created = await admin(w.tg, "POST", "/plugins", {
      name: "http-log",
      enabled: false,
      config: { http_endpoint: "http://collector.test/logs" },
    });
    expect(created.config).toEqual({
      http_endpoint: "http://collector.test/logs",
      method: "POST",
      content_type: "application/json",
      timeout: 10000,
      keepalive: 60000,
      retry_count: null,
      queue_size: null,
      flush_timeout: null,
      headers: null,
      queue: {
        max_batch_size: 1,
        max_coalescing_delay: 1,
        max_entries: 10000,
        max_bytes: null,
        max_retry_time: 60,
        initial_retry_delay: 0.01,
        max_retry_delay: 60,
        concurrency_limit: 1,
      },
      custom_fields_by_lua: null,
      custom_fields: null,
    });
    await w.service("old-fields", []);
    const old = await admin(w.tg, "POST", "/services/old-fields/plugins", {
      name: "http-log",
      enabled: false,
      config: { http_endpoint: "http://collector.test/old", queue_size: 20, flush_timeout: 5 },
    });
    expect(old.config.queue).toMatchObject({ max_batch_size: 20, max_coalescing_delay: 5 });
  });
});

describe("http-log when the gateway stops", () => {
  test("a batch still waiting for its coalescing delay is sent once before the node stops", async () => {
    const tg = await startTestGateway();
    const upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
    let stopped = false;
    try {
      await configure(tg, { name: "stopping", url: `http://127.0.0.1:${upstream.port}` }, [
        { paths: ["/stopping"] },
      ]);
      await admin(tg, "POST", "/services/stopping/plugins", {
        name: "http-log",
        config: {
          http_endpoint: collectorUrl("/at-stop"),
          queue: { max_batch_size: 10, max_coalescing_delay: 3600 },
        },
      });
      if (!(await tg.gateway.synced())) throw new Error("not synced");
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await tg.proxy("/stopping");
        await res.text();
        ids.push(res.headers.get("x-portico-request-id")!);
      }
      expect(received.filter((r) => r.path === "/at-stop")).toHaveLength(0);
      await tg.stop();
      stopped = true;
      const [batch] = await collected("/at-stop", 1);
      expect(JSON.parse(batch!.body).map((r: { request: { id: string } }) => r.request.id)).toEqual(ids);
    } finally {
      if (!stopped) await tg.stop();
      upstream.stop(true);
    }
  });
});
