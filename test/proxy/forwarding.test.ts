// Black-box: what the upstream receives and what the client gets back, through the real gateway.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { PATH_JOIN_CASES } from "../unit/path-join-cases.ts";
import {
  admin,
  configure,
  parseRaw,
  rawRequest,
  startUpstream,
  type Upstream,
  UUID_HEX32,
} from "./helpers.ts";

let tg: TestGateway;
let up: Upstream;
let proxyPort: number;

beforeAll(async () => {
  tg = await startTestGateway();
  proxyPort = Number(new URL(tg.proxyUrl).port);
  up = startUpstream();
  await configure(tg, { name: "echo", url: up.url }, [{ name: "echo", paths: ["/echo"] }]);
});

afterAll(async () => {
  await tg.stop();
  await up.stop();
});

function lastReceived() {
  const r = up.received.at(-1);
  if (!r) throw new Error("upstream received nothing");
  return r;
}

describe("gateway answers", () => {
  test("no route: 404 JSON with a request id", async () => {
    const res = await tg.proxy("/nothing-here");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const id = res.headers.get("x-portico-request-id");
    expect(id).toMatch(UUID_HEX32);
    expect(await res.json()).toEqual({ message: "no Route matched with those values", request_id: id });
    expect(res.headers.get("server")).toMatch(/^portico\//);
    expect(res.headers.get("x-portico-response-latency")).toMatch(/^\d+$/);
  });

  test("the client's Accept picks JSON, HTML, XML or plain text for the gateway's own answers", async () => {
    const message = "no Route matched with those values";
    const html = (id: string) =>
      `<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>${message}.</p>\n    <p>request_id: ${id}</p>\n  </body>\n</html>\n`;
    const xml = (id: string) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>${message}</message>\n  <requestid>${id}</requestid>\n</error>\n`;
    const plain = (id: string) => `${message}\nrequest_id: ${id}\n`;
    const json = (id: string) => JSON.stringify({ message, request_id: id });
    const cases: [string | null, string, (id: string) => string][] = [
      [null, "application/json", json],
      ["*/*", "application/json", json],
      ["application/json", "application/json", json],
      ["application/*", "application/json", json],
      ["image/png", "application/json", json],
      ["text/html", "text/html", html],
      ["TEXT/HTML;level=1", "text/html", html],
      ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html", html],
      ["application/xml", "application/xml", xml],
      ["text/plain", "text/plain", plain],
      ["text/*", "text/plain", plain],
      ["application/json;q=0.5, text/plain", "text/plain", plain],
      ["text/html;q=0.2, application/xml;q=0.7", "application/xml", xml],
      ["text/plain, text/html", "text/plain", plain],
    ];
    for (const [accept, type, body] of cases) {
      const res = await tg.proxy("/nothing-here", { headers: accept === null ? {} : { accept } });
      const id = res.headers.get("x-portico-request-id")!;
      const text = await res.text();
      expect({ accept, status: res.status, type: res.headers.get("content-type"), text }).toEqual({
        accept,
        status: 404,
        type: `${type}; charset=utf-8`,
        text: body(id),
      });
      expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(text)));
    }
  });

  test("route without a service: 503", async () => {
    await admin(tg, "POST", "/routes", { name: "orphan", paths: ["/orphan"] });
    await tg.gateway.synced();
    const res = await tg.proxy("/orphan");
    expect(res.status).toBe(503);
    const id = res.headers.get("x-portico-request-id");
    expect(await res.json()).toEqual({ message: "no Service found with those values", request_id: id });
  });

  test("https-only route over http: 426 with Upgrade, or the configured redirect with Location", async () => {
    const s = await admin(tg, "POST", "/services", { name: "secure", url: up.url });
    await admin(tg, "POST", `/services/${s.id}/routes`, { paths: ["/secure"], protocols: ["https"] });
    for (const code of [301, 302, 307, 308])
      await admin(tg, "POST", `/services/${s.id}/routes`, {
        paths: [`/redirect${code}`],
        protocols: ["https"],
        https_redirect_status_code: code,
      });
    await tg.gateway.synced();
    const before = up.received.length;
    const res = await tg.proxy("/secure/x?a=1");
    expect(res.status).toBe(426);
    expect(res.headers.get("upgrade")).toBe("TLS/1.2, HTTP/1.1");
    const id = res.headers.get("x-portico-request-id");
    expect(await res.json()).toEqual({ message: "Please use HTTPS protocol", request_id: id });
    for (const code of [301, 302, 307, 308]) {
      const r = await tg.proxy(`/redirect${code}/x?a=1&b`, {
        redirect: "manual",
        headers: { host: "api.example.com:8000" },
      });
      expect(r.status).toBe(code);
      expect(r.headers.get("location")).toBe(`https://api.example.com/redirect${code}/x?a=1&b`);
      expect(await r.text()).toBe("");
    }
    expect(up.received.length).toBe(before);
  });

  test("routes of a disabled service are left out, and come back when it is enabled", async () => {
    const { service } = await configure(tg, { name: "toggled", url: up.url }, [{ paths: ["/toggled"] }]);
    expect((await tg.proxy("/toggled")).status).toBe(200);
    await admin(tg, "PATCH", `/services/${service.id}`, { enabled: false });
    await tg.gateway.synced();
    expect((await tg.proxy("/toggled")).status).toBe(404);
    await admin(tg, "PATCH", `/services/${service.id}`, { enabled: true });
    await tg.gateway.synced();
    expect((await tg.proxy("/toggled")).status).toBe(200);
  });
});

describe("upstream request", () => {
  test("X-Forwarded-*, X-Real-IP, Via, request id; client values replaced, XFF and Via appended", async () => {
    const res = await tg.proxy("/echo/a/b?x=1", {
      headers: {
        host: "Client.Example:9999",
        "x-forwarded-for": "10.0.0.1",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "evil.test",
        "x-forwarded-port": "1",
        "x-forwarded-path": "/evil",
        "x-forwarded-prefix": "/evil",
        "x-real-ip": "6.6.6.6",
        via: "1.0 corp-proxy",
      },
    });
    expect(res.status).toBe(200);
    const h = lastReceived().headers;
    expect(h.host).toBe(`127.0.0.1:${up.port}`);
    expect(h["x-forwarded-for"]).toBe("10.0.0.1, 127.0.0.1");
    expect(h["x-real-ip"]).toBe("127.0.0.1");
    expect(h["x-forwarded-proto"]).toBe("http");
    expect(h["x-forwarded-host"]).toBe("client.example");
    expect(h["x-forwarded-port"]).toBe(String(proxyPort));
    expect(h["x-forwarded-path"]).toBe("/echo/a/b");
    expect(h["x-forwarded-prefix"]).toBe("/echo");
    expect(h.via).toMatch(/^1\.0 corp-proxy, 1\.1 portico\/.+$/);
    expect(h["x-portico-request-id"]).toBe(res.headers.get("x-portico-request-id")!);
    expect(lastReceived().target).toBe("/a/b?x=1");
  });

  test("no X-Forwarded-Prefix when nothing is stripped", async () => {
    await configure(tg, { name: "nostrip", url: up.url }, [{ paths: ["/nostrip"], strip_path: false }]);
    await tg.proxy("/nostrip/x", { headers: { "x-forwarded-prefix": "/evil" } });
    expect(lastReceived().headers["x-forwarded-prefix"]).toBeUndefined();
    expect(lastReceived().target).toBe("/nostrip/x");
  });

  test("preserve_host sends the client's Host (with port)", async () => {
    await configure(tg, { name: "keephost", url: up.url }, [{ paths: ["/keephost"], preserve_host: true }]);
    await tg.proxy("/keephost", { headers: { host: "Client.Example:9999" } });
    expect(lastReceived().headers.host).toBe("Client.Example:9999");
  });

  test("hop-by-hop headers and those named in Connection are stripped", async () => {
    const answer = await rawRequest(
      proxyPort,
      "GET /echo/hop HTTP/1.1\r\nHost: h\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n" +
        "TE: trailers\r\nTrailer: x\r\nUpgrade: h2c\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\n" +
        "X-Kept: yes\r\n\r\n",
    );
    expect(parseRaw(answer).status).toBe(200);
    const h = lastReceived().headers;
    for (const name of [
      "x-secret",
      "keep-alive",
      "te",
      "trailer",
      "upgrade",
      "proxy-authorization",
      "proxy-connection",
    ])
      expect({ name, value: h[name] }).toEqual({ name, value: undefined });
    expect(h.connection).toBe("keep-alive");
    expect(h["x-kept"]).toBe("yes");
  });

  test("query string passes byte for byte (Bun re-encodes only a literal ')", async () => {
    const query = "?b=2&a=1&a=3&e=%zz&s=a%20b&p=%2F&u=%7E&empty=&flag&plus=a+b&braces={}|^`";
    const answer = await rawRequest(
      proxyPort,
      `GET /echo/q${query} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`,
    );
    expect(parseRaw(answer).status).toBe(200);
    expect(lastReceived().target).toBe(`/q${query}`);
  });

  test("the normalised path goes upstream", async () => {
    await tg.proxy("/echo/a/./b/../c//d/%7Euser");
    expect(lastReceived().target).toBe("/a/c/d/~user");
  });

  test("path joining follows Kong's v0 table", async () => {
    const combos = new Map<string, { service: string | null; route: string; strip: boolean }>();
    for (const [service, route, strip] of PATH_JOIN_CASES)
      combos.set(`${service}|${route}|${strip}`, { service, route, strip });
    let n = 0;
    const prefixOf = new Map<string, string>();
    for (const [key, c] of combos) {
      // Each combination gets its own prefix so they do not collide: /pj<n> + route path.
      const prefix = `/pj${n++}`;
      prefixOf.set(key, prefix);
      const url = `${up.url}${c.service ?? ""}`;
      await configure(tg, { name: `pj${n}`, url }, [{ paths: [prefix + c.route], strip_path: c.strip }]);
    }
    for (const [service, route, strip, request, expected] of PATH_JOIN_CASES) {
      // Under a prefix, the "/" route becomes "/pjN/", which is another case (the unit test covers "/").
      if (route === "/") continue;
      const prefix = prefixOf.get(`${service}|${route}|${strip}`)!;
      const res = await tg.proxy(prefix + request);
      expect(res.status).toBe(200);
      // With strip_path the whole matched path (prefix + route path) goes; without it, it stays.
      const want = strip ? expected : expected.replace(route, prefix + route);
      expect({ service, route, strip, request, got: lastReceived().target }).toEqual({
        service,
        route,
        strip,
        request,
        got: want,
      });
    }
  });

  test("traversal attempts cannot reach another route or climb above the service path", async () => {
    await configure(tg, { name: "public", url: `${up.url}/public-api` }, [{ paths: ["/public"] }]);
    const before = up.received.length;
    // Resolved before routing (no route for /admin), or refused: a dot segment next to an encoded slash.
    for (const [attempt, status] of [
      ["/public/../admin", 404],
      ["/public/%2e%2e/admin", 404],
      ["/public/..%2f..%2fadmin", 400],
    ] as const)
      expect({ attempt, status: (await tg.proxy(attempt)).status }).toEqual({ attempt, status });
    const answer = await rawRequest(
      proxyPort,
      "GET /public../admin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    expect(parseRaw(answer).status).toBe(200);
    expect(lastReceived().target).toBe("/public-api/admin");
    expect(up.received.length).toBeGreaterThan(before);
    for (const r of up.received.slice(before)) expect(r.target.startsWith("/public-api")).toBe(true);
  });
});

describe("upstream response", () => {
  test("status, body, several Set-Cookie, upstream Server kept; hop-by-hop removed; latency headers added", async () => {
    const cookies = startUpstream(() => {
      const headers = new Headers({ server: "upstream/1", "x-custom": "v", "keep-alive": "timeout=9" });
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2; HttpOnly");
      headers.append("connection", "x-drop");
      headers.append("x-drop", "1");
      return new Response("created", { status: 201, headers });
    });
    await configure(tg, { name: "cookies", url: cookies.url }, [{ paths: ["/cookies"] }]);
    const res = await tg.proxy("/cookies");
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("created");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; HttpOnly"]);
    expect(res.headers.get("server")).toBe("upstream/1");
    expect(res.headers.get("x-custom")).toBe("v");
    expect(res.headers.get("keep-alive")).toBeNull();
    expect(res.headers.get("x-drop")).toBeNull();
    expect(res.headers.get("via")).toMatch(/^1\.1 portico\//);
    expect(res.headers.get("x-portico-upstream-latency")).toMatch(/^\d+$/);
    expect(res.headers.get("x-portico-proxy-latency")).toMatch(/^\d+$/);
    expect(res.headers.get("x-portico-request-id")).toMatch(UUID_HEX32);
    await cookies.stop();
  });

  test("an upstream that sends no Server: the gateway's token stands in", async () => {
    const res = await tg.proxy("/echo/no-server");
    expect(res.status).toBe(200);
    expect(res.headers.get("server")).toMatch(/^portico\/\d/);
    expect(res.headers.get("via")).toMatch(/^1\.1 portico\//);
    await res.arrayBuffer();
  });

  test("redirects are passed back, not followed", async () => {
    const redirecting = startUpstream(
      () => new Response(null, { status: 302, headers: { location: "/elsewhere", "set-cookie": "s=1" } }),
    );
    await configure(tg, { name: "redir", url: redirecting.url }, [{ paths: ["/redir"] }]);
    const res = await tg.proxy("/redir", { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/elsewhere");
    expect(res.headers.getSetCookie()).toEqual(["s=1"]);
    expect(redirecting.received.length).toBe(1);
    await redirecting.stop();
  });

  test("upstream error statuses pass through untouched", async () => {
    const failing = startUpstream(() => new Response("teapot", { status: 418 }));
    await configure(tg, { name: "failing", url: failing.url }, [{ paths: ["/failing"] }]);
    const res = await tg.proxy("/failing");
    expect(res.status).toBe(418);
    expect(await res.text()).toBe("teapot");
    await failing.stop();
  });

  test("gzip passes through byte-exact, still labelled", async () => {
    const plain = "hello gzip ".repeat(5000);
    const gz = Bun.gzipSync(new TextEncoder().encode(plain));
    const zipped = startUpstream(
      () => new Response(gz, { headers: { "content-encoding": "gzip", "content-type": "text/plain" } }),
    );
    await configure(tg, { name: "zipped", url: zipped.url }, [{ paths: ["/zipped"] }]);
    const res = await tg.proxy("/zipped", { decompress: false } as RequestInit);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes).toEqual(gz);
    expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe(plain);
    await zipped.stop();
  });

  test("HEAD and 204/304 have no body", async () => {
    const heady = startUpstream((req) =>
      req.url.endsWith("/204")
        ? new Response(null, { status: 204 })
        : new Response(req.method === "HEAD" ? null : "x".repeat(20000), {
            headers: { "content-length": "20000" },
          }),
    );
    await configure(tg, { name: "heady", url: heady.url }, [{ paths: ["/heady"] }]);
    const head = await tg.proxy("/heady", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("20000");
    expect(await head.text()).toBe("");
    const empty = await tg.proxy("/heady/204");
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe("");
    const full = await tg.proxy("/heady");
    expect((await full.text()).length).toBe(20000);
    await heady.stop();
  });
});
