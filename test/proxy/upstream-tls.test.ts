// Black-box: TLS to upstreams — https services verified against ca_certificates when tls_verify is on,
// Kong's 502 when verification fails, and a client certificate (mutual TLS) for an upstream that demands one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { type Pem, TestCa } from "../support/certs.ts";
import { admin } from "./helpers.ts";

let ca: TestCa;
let otherCa: TestCa;
let tg: TestGateway;
let plainTls: Server<unknown>;
let mutual: Server<unknown>;
let client: Pem;
let trustedCa: string;

const answer = (request: Request) =>
  Response.json({ path: new URL(request.url).pathname, host: request.headers.get("host") });

beforeAll(async () => {
  ca = await TestCa.create();
  otherCa = await TestCa.create("Another CA");
  const server = await ca.leaf(["localhost", "127.0.0.1"]);
  client = await ca.leaf(["gateway.test"], { client: true });
  plainTls = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: server,
    fetch: (request, srv) => (srv.upgrade(request, { data: undefined }) ? undefined : answer(request)),
    websocket: {
      message(ws, message) {
        ws.send(`echo ${message}`);
      },
    },
  });
  mutual = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { ...server, ca: ca.ca.cert, requestCert: true, rejectUnauthorized: true },
    fetch: answer,
  });
  tg = await startTestGateway();
  trustedCa = (await admin(tg, "POST", "/ca_certificates", { cert: ca.ca.cert })).id;
});

afterAll(async () => {
  await tg?.stop();
  await plainTls?.stop(true);
  await mutual?.stop(true);
});

/** A service and a route `/<name>` to it, served once the proxy has them. */
async function serviceRoute(name: string, service: Record<string, unknown>): Promise<void> {
  await admin(tg, "POST", "/services", { name, ...service });
  await admin(tg, "POST", `/services/${name}/routes`, { paths: [`/${name}`] });
  await tg.gateway.synced();
}

describe("verification", () => {
  test("tls_verify off (Kong's default): an untrusted upstream certificate is accepted", async () => {
    await serviceRoute("unverified", { url: `https://127.0.0.1:${plainTls.port}` });
    const res = await tg.proxy("/unverified/x");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { path: string }).path).toBe("/x");
  });

  test("tls_verify on without a trusted CA: Kong's 502", async () => {
    await serviceRoute("strict", { url: `https://127.0.0.1:${plainTls.port}`, tls_verify: true });
    const res = await tg.proxy("/strict/x");
    expect(res.status).toBe(502);
    expect(((await res.json()) as { message: string }).message).toBe(
      "An invalid response was received from the upstream server",
    );
  });

  test("tls_verify on with the service's ca_certificates: verified and proxied", async () => {
    await serviceRoute("trusting", {
      url: `https://127.0.0.1:${plainTls.port}`,
      tls_verify: true,
      ca_certificates: [trustedCa],
    });
    expect((await tg.proxy("/trusting/x")).status).toBe(200);
  });

  test("a CA that did not sign the upstream's certificate does not verify it", async () => {
    const other = await admin(tg, "POST", "/ca_certificates", { cert: otherCa.ca.cert });
    await serviceRoute("wrong-ca", {
      url: `https://127.0.0.1:${plainTls.port}`,
      tls_verify: true,
      ca_certificates: [other.id],
    });
    expect((await tg.proxy("/wrong-ca/x")).status).toBe(502);
  });
});

describe("WebSocket over TLS", () => {
  test("a WebSocket to an https service follows its TLS settings (unverified by default, as Kong)", async () => {
    await serviceRoute("wss", { url: `https://127.0.0.1:${plainTls.port}` });
    const socket = new WebSocket(`${tg.proxyUrl.replace("http", "ws")}/wss/chat`);
    const reply = await new Promise<string>((resolve, reject) => {
      socket.onopen = () => socket.send("hello");
      socket.onmessage = (event) => resolve(String(event.data));
      socket.onerror = () => reject(new Error("the WebSocket failed"));
    });
    socket.close();
    expect(reply).toBe("echo hello");
  });
});

describe("mutual TLS", () => {
  test("an upstream that demands a client certificate refuses the gateway without one", async () => {
    await serviceRoute("no-client-cert", { url: `https://127.0.0.1:${mutual.port}` });
    expect((await tg.proxy("/no-client-cert/x")).status).toBe(502);
  });

  test("with client_certificate the gateway presents it and the upstream answers", async () => {
    const certificate = await admin(tg, "POST", "/certificates", { cert: client.cert, key: client.key });
    await serviceRoute("mtls", {
      url: `https://127.0.0.1:${mutual.port}`,
      client_certificate: { id: certificate.id },
      tls_verify: true,
      ca_certificates: [trustedCa],
    });
    const res = await tg.proxy("/mtls/x");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { path: string }).path).toBe("/x");
  });
});
