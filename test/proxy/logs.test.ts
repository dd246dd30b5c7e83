// Black-box: the access log (combined and json), the admin access log and the error log, written to real files
// by the real gateway; failures (refused, timeout, DNS, TLS, a broken body) leave their cause and request id.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { selfSigned } from "../support/certs.ts";
import { SOURCE_COMMAND, startPortico } from "../support/process.ts";
import { admin, configure, startUpstream, type Upstream } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "portico-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file's lines once one contains `needle` (polled; the writer flushes within ~100 ms). */
async function linesWith(path: string, needle: string, deadlineMs = 10_000): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    const lines = text.split("\n").filter((l) => l !== "");
    if (lines.some((l) => l.includes(needle))) return lines;
    if (Date.now() > until) throw new Error(`no line with ${needle} in ${path}:\n${text}`);
    await Bun.sleep(25);
  }
}

async function lineWith(path: string, needle: string): Promise<string> {
  return (await linesWith(path, needle)).find((l) => l.includes(needle))!;
}

/** A port nothing listens on. */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

const TIME_LOCAL = /\[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]/;
const ERROR_PREFIX = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \[(\w+)\] (\d+)#(\d+): /;

/** A combined line with its time replaced by [TIME] (checked separately). */
function withoutTime(line: string): string {
  expect(line).toMatch(TIME_LOCAL);
  return line.replace(TIME_LOCAL, "[TIME]");
}

/** An error-log line's level and message (its date, pid and thread checked). */
function errorEntry(line: string): { level: string; message: string } {
  const match = ERROR_PREFIX.exec(line);
  expect(match).not.toBeNull();
  expect(Number(match![2])).toBe(process.pid);
  return { level: match![1]!, message: line.slice(match![0].length) };
}

describe("combined access log, admin access log, error log", () => {
  let tg: TestGateway;
  let up: Upstream;
  let proxyPort: number;
  const access = join(dir, "access.log");
  const adminLog = join(dir, "admin.log");
  const errors = join(dir, "error.log");

  beforeAll(async () => {
    tg = await startTestGateway([
      "--access-log",
      access,
      "--admin-access-log",
      adminLog,
      "--error-log",
      errors,
      "--proxy-body-limit",
      "1m",
    ]);
    proxyPort = Number(new URL(tg.proxyUrl).port);
    up = startUpstream(() => new Response("hello", { headers: { "content-type": "text/plain" } }));
    await configure(tg, { name: "hello", url: up.url }, [{ name: "hello-route", paths: ["/hello"] }]);
  });

  afterAll(async () => {
    await tg.stop();
    await up.stop();
  });

  test("a proxied request: client, Basic user, request line, status, body bytes, referer, agent, Kong's request id", async () => {
    const res = await tg.proxy("/hello/x?a=1&b=%20", {
      headers: {
        "user-agent": 'agent "quoted"',
        referer: "http://example.test/from",
        authorization: `Basic ${btoa("alice:secret")}`,
      },
    });
    expect(await res.text()).toBe("hello");
    const id = res.headers.get("x-portico-request-id")!;
    expect(withoutTime(await lineWith(access, id))).toBe(
      `127.0.0.1 - alice [TIME] "GET /hello/x?a=1&b=%20 HTTP/1.1" 200 5 "http://example.test/from" "agent \\x22quoted\\x22" kong_request_id: "${id}"`,
    );
  });

  test("a request no route matches is logged with the gateway's answer and its size", async () => {
    const res = await tg.proxy("/nowhere", { headers: { "user-agent": "ua" } });
    const body = await res.text();
    expect(res.status).toBe(404);
    const id = res.headers.get("x-portico-request-id")!;
    expect(withoutTime(await lineWith(access, id))).toBe(
      `127.0.0.1 - - [TIME] "GET /nowhere HTTP/1.1" 404 ${Buffer.byteLength(body)} "-" "ua" kong_request_id: "${id}"`,
    );
  });

  test("admin API requests go to the admin access log (nginx's combined format)", async () => {
    const res = await fetch(`${tg.adminUrl}/services/hello`, { headers: { "user-agent": "admin-ua" } });
    const body = await res.text();
    expect(res.status).toBe(200);
    const line = withoutTime(await lineWith(adminLog, "admin-ua"));
    expect(line).toBe(
      `127.0.0.1 - - [TIME] "GET /services/hello HTTP/1.1" 200 ${Buffer.byteLength(body)} "-" "admin-ua"`,
    );
    // The proxy's log has no admin requests, and the other way round.
    expect(readFileSync(access, "utf8")).not.toContain("/services/hello");
    expect(readFileSync(adminLog, "utf8")).not.toContain("/hello/x");
  });

  test("502 to a closed port: the access log has the 502, the error log its cause with the request id", async () => {
    const port = closedPort();
    await configure(tg, { name: "refused", url: `http://127.0.0.1:${port}`, retries: 0 }, [
      { paths: ["/refused"] },
    ]);
    const res = await tg.proxy("/refused/a?b=c", { headers: { "user-agent": "ua" } });
    const body = await res.text();
    expect(res.status).toBe(502);
    const id = res.headers.get("x-portico-request-id")!;
    expect(withoutTime(await lineWith(access, id))).toBe(
      `127.0.0.1 - - [TIME] "GET /refused/a?b=c HTTP/1.1" 502 ${Buffer.byteLength(body)} "-" "ua" kong_request_id: "${id}"`,
    );
    expect(errorEntry(await lineWith(errors, id))).toEqual({
      level: "error",
      message: `connect() failed (ECONNREFUSED: connection refused) while connecting to upstream, client: 127.0.0.1, server: portico, request: "GET /refused/a?b=c HTTP/1.1", upstream: "http://127.0.0.1:${port}/a?b=c", host: "127.0.0.1:${proxyPort}", status: 502, request_id: "${id}"`,
    });
  });

  test("504: the error log names the read timeout", async () => {
    const silent = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Promise<Response>(() => {}),
    });
    try {
      await configure(tg, { name: "silent", url: `http://127.0.0.1:${silent.port}`, read_timeout: 300 }, [
        { paths: ["/silent"] },
      ]);
      const res = await tg.proxy("/silent");
      await res.text();
      expect(res.status).toBe(504);
      const id = res.headers.get("x-portico-request-id")!;
      expect(errorEntry(await lineWith(errors, id))).toEqual({
        level: "error",
        message: `upstream timed out (no response header within read_timeout = 300 ms) while reading response header from upstream, client: 127.0.0.1, server: portico, request: "GET /silent HTTP/1.1", upstream: "http://127.0.0.1:${silent.port}/", host: "127.0.0.1:${proxyPort}", status: 504, request_id: "${id}"`,
      });
      expect(await lineWith(access, id)).toContain('"GET /silent HTTP/1.1" 504 ');
    } finally {
      silent.stop(true);
    }
  });

  test("503 name resolution failed: the error log names the host and the resolver's code", async () => {
    await configure(tg, { name: "nxdomain", url: "http://does-not-exist.invalid", retries: 0 }, [
      { paths: ["/nxdomain"] },
    ]);
    const res = await tg.proxy("/nxdomain");
    await res.text();
    expect(res.status).toBe(503);
    const id = res.headers.get("x-portico-request-id")!;
    const { level, message } = errorEntry(await lineWith(errors, id));
    expect(level).toBe("error");
    expect(message).toStartWith('upstream host "does-not-exist.invalid" could not be resolved (ENOTFOUND: ');
    expect(message).toEndWith(`status: 503, request_id: "${id}"`);
  });

  test("502 for an upstream certificate that fails verification: the error log names the TLS error", async () => {
    const { certPath: cert, keyPath: key } = await selfSigned("localhost", dir);
    const secure = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: Bun.file(cert), key: Bun.file(key) },
      fetch: () => new Response("secret"),
    });
    try {
      await configure(
        tg,
        { name: "self-signed", url: `https://127.0.0.1:${secure.port}`, tls_verify: true, retries: 0 },
        [{ paths: ["/self-signed"] }],
      );
      const res = await tg.proxy("/self-signed");
      await res.text();
      expect(res.status).toBe(502);
      const id = res.headers.get("x-portico-request-id")!;
      const { message } = errorEntry(await lineWith(errors, id));
      expect(message).toStartWith("TLS handshake with upstream failed (DEPTH_ZERO_SELF_SIGNED_CERT: ");
      expect(message).toContain(`while SSL handshaking to upstream, client: 127.0.0.1`);
      expect(message).toEndWith(`status: 502, request_id: "${id}"`);
    } finally {
      secure.stop(true);
    }
  });

  test("502 for a body that breaks off while the gateway reads it: the error log says so", async () => {
    // 20,000 bytes announced (the gateway buffers bodies of that size, see relay.ts), 3 sent, then a reset.
    const broken = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\nabc");
          setTimeout(() => socket.terminate(), 50);
        },
      },
    });
    try {
      await configure(tg, { name: "broken", url: `http://127.0.0.1:${broken.port}`, retries: 0 }, [
        { paths: ["/broken"] },
      ]);
      const res = await tg.proxy("/broken");
      await res.text();
      expect(res.status).toBe(502);
      const id = res.headers.get("x-portico-request-id")!;
      const { message } = errorEntry(await lineWith(errors, id));
      expect(message).toStartWith("upstream response body broke off (");
      expect(message).toContain(" while reading upstream, client: 127.0.0.1");
      expect(message).toEndWith(`status: 502, request_id: "${id}"`);
    } finally {
      broken.stop(true);
    }
  });
});

describe("json access log", () => {
  let tg: TestGateway;
  let up: Upstream;
  const access = join(dir, "access.json.log");

  beforeAll(async () => {
    tg = await startTestGateway([
      "--access-log",
      access,
      "--access-log-format",
      "json",
      "--error-log",
      "stderr",
    ]);
    up = startUpstream(() => new Response("twelve bytes", { headers: { "content-type": "text/plain" } }));
  });

  afterAll(async () => {
    await tg.stop();
    await up.stop();
  });

  test("route, service, consumer, status, sizes and the three latencies", async () => {
    const service = await admin(tg, "POST", "/services", { name: "json-svc", url: up.url });
    const route = await admin(tg, "POST", `/services/${service.id}/routes`, {
      name: "json-route",
      paths: ["/j"],
    });
    await admin(tg, "POST", `/routes/${route.id}/plugins`, { name: "key-auth" });
    const consumer = await admin(tg, "POST", "/consumers", { username: "bob", custom_id: "b-1" });
    await admin(tg, "POST", "/consumers/bob/key-auth", { key: "bob-key" });
    if (!(await tg.gateway.synced())) throw new Error("not synced");

    const res = await tg.proxy("/j/path?q=1", { headers: { apikey: "bob-key", "user-agent": "json-ua" } });
    expect(await res.text()).toBe("twelve bytes");
    const id = res.headers.get("x-portico-request-id")!;
    const entry = JSON.parse(await lineWith(access, id));
    expect(Object.keys(entry)).toEqual([
      "time",
      "request_id",
      "client_ip",
      "method",
      "uri",
      "status",
      "source",
      "upstream_status",
      "request_size",
      "response_size",
      "body_bytes_sent",
      "latencies",
      "route",
      "service",
      "consumer",
      "user_agent",
    ]);
    expect(entry).toMatchObject({
      request_id: id,
      client_ip: "127.0.0.1",
      method: "GET",
      uri: "/j/path?q=1",
      status: 200,
      source: "upstream",
      upstream_status: "200",
      body_bytes_sent: 12,
      route: { id: route.id, name: "json-route" },
      service: { id: service.id, name: "json-svc" },
      consumer: { id: consumer.id, username: "bob", custom_id: "b-1" },
      user_agent: "json-ua",
    });
    expect(Date.parse(entry.time)).not.toBeNaN();
    // Sizes: the request line and headers plus body as received; the response's status line, headers and body.
    expect(entry.request_size).toBeGreaterThan("GET /j/path?q=1 HTTP/1.1\r\n".length);
    expect(entry.response_size).toBeGreaterThan(12);
    expect(Object.keys(entry.latencies)).toEqual(["kong", "proxy", "request", "receive"]);
    for (const value of Object.values(entry.latencies)) expect(value).toBeGreaterThanOrEqual(0);

    // Refused by key-auth: the gateway's own answer, no upstream status, no consumer.
    const refused = await tg.proxy("/j/path", { headers: { "user-agent": "json-ua" } });
    const body = await refused.text();
    const refusedId = refused.headers.get("x-portico-request-id")!;
    expect(JSON.parse(await lineWith(access, refusedId))).toMatchObject({
      status: 401,
      source: "kong",
      upstream_status: null,
      body_bytes_sent: Buffer.byteLength(body),
      latencies: { proxy: -1 },
      route: { id: route.id, name: "json-route" },
      consumer: null,
    });
  });
});

describe("log levels and a destination that does not keep up", () => {
  test("--log-level error leaves out notices, notice (the default) keeps them", async () => {
    for (const [level, expected] of [
      ["error", false],
      ["notice", true],
    ] as const) {
      const errors = join(dir, `level-${level}.log`);
      const tg = await startTestGateway(["--error-log", errors, "--log-level", level]);
      try {
        tg.gateway.reopenLogs();
        await configure(tg, { name: "r", url: `http://127.0.0.1:${closedPort()}`, retries: 0 }, [
          { paths: ["/r"] },
        ]);
        const res = await tg.proxy("/r");
        await res.text();
        const lines = await linesWith(errors, res.headers.get("x-portico-request-id")!);
        expect(lines.some((l) => l.includes("[notice]") && l.endsWith("log files reopened"))).toBe(expected);
      } finally {
        await tg.stop();
      }
    }
  });

  test("an access log nobody reads (a full pipe) does not stall the proxy: lines are dropped and counted", async () => {
    const fifo = join(dir, "stuck.fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    // A reader that never reads: the gateway can open the pipe, and its writes block once 64 KiB wait.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const errors = join(dir, "stuck-error.log");
    const tg = await startTestGateway(["--access-log", fifo, "--error-log", errors, "--log-buffer", "4k"]);
    const up = startUpstream(() => new Response("ok"));
    try {
      await configure(tg, { name: "stuck", url: up.url }, [{ paths: ["/stuck"] }]);
      // ~600 lines of ~150 bytes: far more than the pipe (64 KiB) and the buffer (4 KiB) hold.
      for (let batch = 0; batch < 30; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => tg.proxy("/stuck").then(async (r) => [r.status, await r.text()])),
        );
        for (const answer of answers) expect(answer).toEqual([200, "ok"]);
      }
      const warning = await lineWith(errors, "is not keeping up");
      expect(errorEntry(warning).level).toBe("warn");
      expect(warning).toMatch(
        new RegExp(
          `log ${fifo} is not keeping up: \\d+ line\\(s\\) dropped so far \\(more than 4096 bytes waiting\\)$`,
        ),
      );
    } finally {
      // The blocked write ends when its reader goes away; the stop does not wait for it.
      closeSync(reader);
      await tg.stop();
      await up.stop();
    }
  });

  test("a log path that cannot be opened stops the start with the reason", async () => {
    await expect(startTestGateway(["--access-log", join(dir, "missing", "access.log")])).rejects.toThrow(
      `cannot open the access log ${join(dir, "missing", "access.log")}: ENOENT`,
    );
  });
});

describe("SIGUSR1 (logrotate)", () => {
  test("two proxy workers and the main thread open their log files again; old lines stay in the moved files", async () => {
    const access = join(dir, "rotated-access.log");
    const adminLog = join(dir, "rotated-admin.log");
    const errors = join(dir, "rotated-error.log");
    const up = startUpstream(() => new Response("ok"));
    const gateway = await startPortico(SOURCE_COMMAND, [
      "--database",
      join(dir, "rotate.db"),
      "--proxy-listen",
      "127.0.0.1:0",
      "--admin-listen",
      "127.0.0.1:0",
      "--workers",
      "2",
      "--access-log",
      access,
      "--admin-access-log",
      adminLog,
      "--error-log",
      errors,
    ]);
    try {
      const post = (path: string, body: unknown) =>
        fetch(gateway.adminUrl + path, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "before-rotation" },
          body: JSON.stringify(body),
        });
      expect((await post("/services", { name: "rot", url: up.url })).status).toBe(201);
      expect((await post("/services/rot/routes", { paths: ["/rot"] })).status).toBe(201);
      const send = async () => {
        for (let i = 0; i < 200; i++) {
          const res = await fetch(`${gateway.proxyUrl}/rot`);
          await res.text();
          if (res.status === 200) return res.headers.get("x-portico-request-id")!;
          await Bun.sleep(25);
        }
        throw new Error("the route never answered");
      };
      const before = await send();
      await linesWith(access, before);
      await linesWith(adminLog, "before-rotation");
      for (const path of [access, adminLog, errors]) renameSync(path, `${path}.1`);
      gateway.proc.kill("SIGUSR1");
      // Each worker reopens on its own message: a few requests reach both of them.
      await linesWith(errors, "log files reopened");
      const after: string[] = [];
      for (let i = 0; i < 10; i++) after.push(await send());
      const lines = await linesWith(access, after.at(-1)!);
      expect(after.every((id) => lines.some((l) => l.includes(id)))).toBe(true);
      expect(lines.some((l) => l.includes(before))).toBe(false);
      expect(readFileSync(`${access}.1`, "utf8")).toContain(before);
      await fetch(`${gateway.adminUrl}/status`, { headers: { "user-agent": "after-rotation" } });
      await linesWith(adminLog, "after-rotation");
      // The main thread and both workers say so.
      const reopened = (await linesWith(errors, "log files reopened")).filter((l) =>
        l.endsWith("log files reopened"),
      );
      for (let i = 0; i < 100 && reopened.length < 3; i++) {
        await Bun.sleep(25);
        reopened.splice(
          0,
          reopened.length,
          ...readFileSync(errors, "utf8")
            .split("\n")
            .filter((l) => l.endsWith("log files reopened")),
        );
      }
      expect(reopened.map((l) => /#(\d+):/.exec(l)![1]).sort()).toEqual(["0", "1", "2"]);
    } finally {
      await gateway.stop();
      await up.stop();
    }
  });
});
