// Black-box: certificates chosen per connection by SNI (exact, then wildcard, then the default), changed
// through the admin API without a restart — also while requests keep arriving — and route `snis`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { fingerprintOf, type Pem, presentedFingerprint, TestCa } from "../support/certs.ts";
import { admin, configure, startUpstream, type Upstream } from "./helpers.ts";

let ca: TestCa;
let up: Upstream;
let tg: TestGateway;
let port: number;
let fallback: Pem;

/** Creates a certificate with SNIs through the admin API and waits until the proxy serves it. */
async function addCertificate(pem: Pem, names: string[]): Promise<string> {
  const certificate = await admin(tg, "POST", "/certificates", { cert: pem.cert, key: pem.key });
  for (const name of names) await admin(tg, "POST", `/certificates/${certificate.id}/snis`, { name });
  await tg.gateway.synced();
  return certificate.id;
}

/** A verified HTTPS request for `name` (SNI and Host), through the TLS listener. */
function httpsGet(name: string, path: string): Promise<Response> {
  return fetch(`https://127.0.0.1:${port}${path}`, {
    headers: { host: name },
    tls: { ca: ca.ca.cert, serverName: name },
  } as RequestInit);
}

beforeAll(async () => {
  ca = await TestCa.create();
  fallback = await ca.leaf(["fallback.test"]);
  up = startUpstream();
  tg = await startTestGateway([
    "--proxy-listen",
    "127.0.0.1:0 ssl http2",
    "--ssl-cert",
    fallback.certPath,
    "--ssl-cert-key",
    fallback.keyPath,
  ]);
  port = tg.gateway.proxyListeners[0]!.port;
  await configure(tg, { name: "echo", url: up.url }, [
    { name: "any", paths: ["/any"] },
    { name: "only-a", paths: ["/only-a"], snis: ["a.test"], protocols: ["https"] },
  ]);
});

afterAll(async () => {
  await tg?.stop();
  await up?.stop();
});

describe("certificate selection", () => {
  let a: Pem;
  let wild: Pem;
  let exact: Pem;

  beforeAll(async () => {
    a = await ca.leaf(["a.test"]);
    wild = await ca.leaf(["wild.w.test", "*.w.test"], { type: "ec" });
    exact = await ca.leaf(["exact.w.test"]);
    await addCertificate(a, ["a.test"]);
    await addCertificate(wild, ["*.w.test"]);
    await addCertificate(exact, ["exact.w.test"]);
  });

  test("an exact SNI gets its certificate, and the request verifies against the CA", async () => {
    expect(await presentedFingerprint(port, "a.test")).toBe(fingerprintOf(a.cert));
    expect((await httpsGet("a.test", "/any/x")).status).toBe(200);
  });

  test("a wildcard SNI covers one label; an exact name beats it", async () => {
    expect(await presentedFingerprint(port, "x.w.test")).toBe(fingerprintOf(wild.cert));
    expect(await presentedFingerprint(port, "exact.w.test")).toBe(fingerprintOf(exact.cert));
    expect((await httpsGet("x.w.test", "/any/x")).status).toBe(200);
  });

  test("a right-hand wildcard (example.*) selects as well", async () => {
    const right = await ca.leaf(["right.test"]);
    await addCertificate(right, ["right.*"]);
    expect(await presentedFingerprint(port, "right.test")).toBe(fingerprintOf(right.cert));
  });

  test("a certificate with an alternate pair serves ECDSA or RSA, as the client accepts", async () => {
    const rsa = await ca.leaf(["dual.test"]);
    const ecdsa = await ca.leaf(["dual.test"], { type: "ec" });
    const certificate = await admin(tg, "POST", "/certificates", {
      cert: rsa.cert,
      key: rsa.key,
      cert_alt: ecdsa.cert,
      key_alt: ecdsa.key,
    });
    await admin(tg, "POST", `/certificates/${certificate.id}/snis`, { name: "dual.test" });
    await tg.gateway.synced();
    const ecdsaOnly = ["-sigalgs", "ECDSA+SHA256"];
    const rsaOnly = ["-sigalgs", "RSA-PSS+SHA256:RSA+SHA256"];
    expect(await presentedFingerprint(port, "dual.test", ecdsaOnly)).toBe(fingerprintOf(ecdsa.cert));
    expect(await presentedFingerprint(port, "dual.test", rsaOnly)).toBe(fingerprintOf(rsa.cert));
    // TLS 1.2 picks by cipher suite the same way.
    const ecdsaSuite = ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"];
    expect(await presentedFingerprint(port, "dual.test", ecdsaSuite)).toBe(fingerprintOf(ecdsa.cert));
    expect((await httpsGet("dual.test", "/any/x")).status).toBe(200);
    // Dropping the alternate pair leaves the RSA one for every client.
    await admin(tg, "PATCH", `/certificates/${certificate.id}`, { cert_alt: null, key_alt: null });
    await tg.gateway.synced();
    expect(await presentedFingerprint(port, "dual.test", ecdsaOnly)).toBe("none");
    expect(await presentedFingerprint(port, "dual.test")).toBe(fingerprintOf(rsa.cert));
  });

  test("an unknown name gets the default certificate", async () => {
    expect(await presentedFingerprint(port, "nobody.test")).toBe(fingerprintOf(fallback.cert));
  });

  test("route snis: the route answers for its name only", async () => {
    expect((await httpsGet("a.test", "/only-a/x")).status).toBe(200);
    const other = await httpsGet("x.w.test", "/only-a/x");
    expect(other.status).toBe(404);
    expect(((await other.json()) as { message: string }).message).toBe("no Route matched with those values");
  });

  test("route snis follow the Host, not the SNI, when a client sends two names (a known difference)", async () => {
    // Bun.serve does not tell the handler the TLS server name (README): Kong would answer 200, then 404.
    const fronted = (sni: string, host: string) =>
      fetch(`https://127.0.0.1:${port}/only-a/x`, {
        headers: { host },
        tls: { ca: ca.ca.cert, serverName: sni, checkServerIdentity: () => undefined },
      } as RequestInit);
    expect((await fronted("a.test", "x.w.test")).status).toBe(404);
    expect((await fronted("x.w.test", "a.test")).status).toBe(200);
  });
});

describe("changes without a restart", () => {
  test("a certificate replaced by PATCH is served to new connections", async () => {
    const first = await ca.leaf(["swap.test"]);
    const second = await ca.leaf(["swap.test"], { type: "ec" });
    const id = await addCertificate(first, ["swap.test"]);
    expect(await presentedFingerprint(port, "swap.test")).toBe(fingerprintOf(first.cert));
    await admin(tg, "PATCH", `/certificates/${id}`, { cert: second.cert, key: second.key });
    await tg.gateway.synced();
    expect(await presentedFingerprint(port, "swap.test")).toBe(fingerprintOf(second.cert));
  });

  test("a deleted SNI falls back to the default certificate; a deleted certificate takes its SNIs", async () => {
    const pem = await ca.leaf(["gone.test", "also.test"]);
    const id = await addCertificate(pem, ["gone.test", "also.test"]);
    expect(await presentedFingerprint(port, "gone.test")).toBe(fingerprintOf(pem.cert));
    await admin(tg, "DELETE", "/snis/gone.test");
    await tg.gateway.synced();
    expect(await presentedFingerprint(port, "gone.test")).toBe(fingerprintOf(fallback.cert));
    expect(await presentedFingerprint(port, "also.test")).toBe(fingerprintOf(pem.cert));
    await admin(tg, "DELETE", `/certificates/${id}`);
    await tg.gateway.synced();
    expect(await presentedFingerprint(port, "also.test")).toBe(fingerprintOf(fallback.cert));
    expect((await tg.admin("/snis/also.test")).status).toBe(404);
  });

  test("requests keep succeeding while certificates change under them", async () => {
    const pems = [
      await ca.leaf(["busy.test"]),
      await ca.leaf(["busy.test"], { type: "ec" }),
      await ca.leaf(["busy.test"]),
    ];
    const id = await addCertificate(pems[0]!, ["busy.test"]);
    let running = true;
    const outcomes: string[] = [];
    // A connection the retiring server closes while a request is being sent on it (or a new connection
    // queued on its socket as it closes: SO_REUSEPORT hands each listener its own queue) is reset, as at any
    // server's graceful close; HTTP clients send an idempotent request again on a fresh connection (RFC 9110
    // §9.2.2), and so does this one, once. A request that fails twice, or gets anything but 200, fails.
    const client = async () => {
      while (running) {
        let outcome = "";
        for (let tries = 0; tries < 2 && outcome !== "200"; tries++) {
          try {
            const res = await httpsGet("busy.test", "/any/busy");
            await res.arrayBuffer();
            outcome = String(res.status);
          } catch (error) {
            outcome = (error as Error).message;
            if (!/reset|closed|ECONNRESET|socket/i.test(outcome)) break;
          }
        }
        outcomes.push(outcome);
      }
    };
    const clients = [client(), client(), client(), client()];
    for (const pem of [pems[1]!, pems[2]!, pems[0]!]) {
      await admin(tg, "PATCH", `/certificates/${id}`, { cert: pem.cert, key: pem.key });
      await tg.gateway.synced();
    }
    running = false;
    await Promise.all(clients);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o !== "200")).toEqual([]);
    expect(await presentedFingerprint(port, "busy.test")).toBe(fingerprintOf(pems[0]!.cert));
  });
});

describe("with several proxy workers", () => {
  test("every worker thread serves a new certificate once the write is answered", async () => {
    const workers = await startTestGateway([
      "--workers",
      "2",
      "--proxy-listen",
      "127.0.0.1:0 ssl",
      "--ssl-cert",
      fallback.certPath,
      "--ssl-cert-key",
      fallback.keyPath,
    ]);
    try {
      const workerPort = workers.gateway.proxyListeners[0]!.port;
      const pem = await ca.leaf(["threads.test"]);
      const certificate = await admin(workers, "POST", "/certificates", { cert: pem.cert, key: pem.key });
      await admin(workers, "POST", `/certificates/${certificate.id}/snis`, { name: "threads.test" });
      await workers.gateway.synced();
      // The kernel spreads connections over both workers' sockets: several handshakes reach each.
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) seen.add(await presentedFingerprint(workerPort, "threads.test"));
      expect([...seen]).toEqual([fingerprintOf(pem.cert)]);
    } finally {
      await workers.stop();
    }
  });
});
