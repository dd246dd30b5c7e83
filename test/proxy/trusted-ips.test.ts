// Black-box: a gateway behind a load balancer (--trusted-ips) keeps the balancer's X-Forwarded-* and takes
// the client's address from the real-IP header; an untrusted peer's values are replaced as before.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { configure, startUpstream, type Upstream } from "./helpers.ts";

let up: Upstream;
let trusting: TestGateway;
let trustingForwardedFor: TestGateway;
let trustingOthers: TestGateway;

const BALANCER_HEADERS = {
  host: "api.example.com",
  "x-forwarded-for": "203.0.113.7, 10.1.1.1",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "public.example.com",
  "x-forwarded-port": "443",
  "x-forwarded-path": "/v1/echo/a",
  "x-forwarded-prefix": "/v1",
  "x-real-ip": "203.0.113.7",
};

beforeAll(async () => {
  up = startUpstream();
  // The tests connect from 127.0.0.1.
  trusting = await startTestGateway(["--trusted-ips", "127.0.0.1/32,::1"]);
  trustingForwardedFor = await startTestGateway([
    "--trusted-ips",
    "127.0.0.0/8",
    "--real-ip-header",
    "X-Forwarded-For",
  ]);
  trustingOthers = await startTestGateway(["--trusted-ips", "10.0.0.0/8"]);
  for (const tg of [trusting, trustingForwardedFor, trustingOthers])
    await configure(tg, { name: "echo", url: up.url }, [{ name: "echo", paths: ["/echo"] }]);
});

afterAll(async () => {
  for (const tg of [trusting, trustingForwardedFor, trustingOthers]) await tg.stop();
  await up.stop();
});

function lastReceived() {
  const r = up.received.at(-1);
  if (!r) throw new Error("upstream received nothing");
  return r.headers;
}

describe("--trusted-ips", () => {
  test("a trusted peer's X-Forwarded-* are kept and X-Real-IP names the client", async () => {
    const res = await trusting.proxy("/echo/a", { headers: BALANCER_HEADERS });
    expect(res.status).toBe(200);
    const h = lastReceived();
    expect(h["x-real-ip"]).toBe("203.0.113.7");
    // The peer is appended to the list it sent, as Kong does.
    expect(h["x-forwarded-for"]).toBe("203.0.113.7, 10.1.1.1, 127.0.0.1");
    expect(h["x-forwarded-proto"]).toBe("https");
    expect(h["x-forwarded-host"]).toBe("public.example.com");
    expect(h["x-forwarded-port"]).toBe("443");
    expect(h["x-forwarded-path"]).toBe("/v1/echo/a");
    expect(h["x-forwarded-prefix"]).toBe("/v1");
  });

  test("a trusted peer that sends nothing gets the gateway's own values", async () => {
    const res = await trusting.proxy("/echo/b");
    expect(res.status).toBe(200);
    const h = lastReceived();
    const port = new URL(trusting.proxyUrl).port;
    expect(h["x-real-ip"]).toBe("127.0.0.1");
    expect(h["x-forwarded-for"]).toBe("127.0.0.1");
    expect(h["x-forwarded-proto"]).toBe("http");
    expect(h["x-forwarded-host"]).toBe("127.0.0.1");
    expect(h["x-forwarded-port"]).toBe(port);
    expect(h["x-forwarded-path"]).toBe("/echo/b");
    expect(h["x-forwarded-prefix"]).toBe("/echo");
  });

  test("a real-IP header that is not an address is ignored", async () => {
    await trusting.proxy("/echo/c", { headers: { "x-real-ip": "not-an-ip" } });
    expect(lastReceived()["x-real-ip"]).toBe("127.0.0.1");
  });

  test("--real-ip-header X-Forwarded-For takes the last address of the list (no recursion, as nginx)", async () => {
    await trustingForwardedFor.proxy("/echo/d", {
      headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.9", "x-real-ip": "6.6.6.6" },
    });
    const h = lastReceived();
    expect(h["x-real-ip"]).toBe("203.0.113.9");
    expect(h["x-forwarded-for"]).toBe("198.51.100.1, 203.0.113.9, 127.0.0.1");
  });

  test("a peer outside the trusted ranges is treated like any client", async () => {
    await trustingOthers.proxy("/echo/e", { headers: BALANCER_HEADERS });
    const h = lastReceived();
    const port = new URL(trustingOthers.proxyUrl).port;
    expect(h["x-real-ip"]).toBe("127.0.0.1");
    expect(h["x-forwarded-for"]).toBe("203.0.113.7, 10.1.1.1, 127.0.0.1");
    expect(h["x-forwarded-proto"]).toBe("http");
    expect(h["x-forwarded-host"]).toBe("api.example.com");
    expect(h["x-forwarded-port"]).toBe(port);
    expect(h["x-forwarded-path"]).toBe("/echo/e");
    expect(h["x-forwarded-prefix"]).toBe("/echo");
  });
});
