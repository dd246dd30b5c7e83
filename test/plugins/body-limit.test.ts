// Black-box: key_in_body reads the request body before forwarding it. That read must honour the proxy body
// limit like the streaming path does (a chunked upload cannot make the gateway buffer without bound), and the
// body must still reach the upstream byte for byte.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { admin, type PluginWorld, startWorld } from "./helpers.ts";

let w: PluginWorld;

beforeAll(async () => {
  w = await startWorld(["--proxy-body-limit", "1k"]);
  await w.consumer({ username: "bulk" });
  await admin(w.tg, "POST", "/consumers/bulk/key-auth", { key: "bulk-key" });
  const { routes } = await w.service("bulk", ["/bulk"]);
  await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
    name: "key-auth",
    config: { key_in_body: true },
  });
  await w.synced();
});

afterAll(() => w.stop());

function chunked(data: string | Uint8Array): ReadableStream<Uint8Array> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 256) controller.enqueue(bytes.slice(i, i + 256));
      controller.close();
    },
  });
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

test("a chunked form body within the limit is read for the key and forwarded whole", async () => {
  const body = `apikey=bulk-key&pad=${"x".repeat(600)}`;
  const echo = await w.pass("/bulk", { method: "POST", headers: FORM, body: chunked(body) });
  expect(echo.body).toBe(body);
  expect(echo.headers["x-consumer-username"]).toBe("bulk");
});

test("a chunked form body past the limit: 413 JSON, nothing forwarded", async () => {
  const before = w.upstream.received.length;
  const body = `apikey=bulk-key&pad=${"x".repeat(4000)}`;
  const answer = await w.refused(
    "/bulk",
    { method: "POST", headers: FORM, body: chunked(body) },
    413,
    "Request size limit exceeded",
  );
  expect(answer.text).not.toContain("bulk-key");
  expect(w.upstream.received.length).toBe(before);
});

test("a body read for its key is forwarded as the exact bytes received (not re-encoded text)", async () => {
  const head = new TextEncoder().encode("apikey=bulk-key&name=");
  const latin1 = new Uint8Array([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0xff, 0xfe]);
  const body = new Uint8Array([...head, ...latin1]);
  const raw = startRawUpstream();
  try {
    const { routes } = await w.service("bulk-raw", ["/bulk-raw"]);
    await admin(w.tg, "PATCH", "/services/bulk-raw", { url: raw.url });
    await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
      name: "key-auth",
      config: { key_in_body: true },
    });
    await w.synced();
    for (const sent of [body, chunked(body)]) {
      const res = await w.tg.proxy("/bulk-raw", { method: "POST", headers: FORM, body: sent });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).toString("hex")).toBe(Buffer.from(body).toString("hex"));
    }
    // Without the key the route refuses: the body really was read for it.
    const refused = await w.tg.proxy("/bulk-raw", { method: "POST", headers: FORM, body: latin1 });
    expect(refused.status).toBe(401);
  } finally {
    await raw.stop();
  }
});

/** An upstream that answers with the exact request body bytes. */
function startRawUpstream() {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => new Response(await request.arrayBuffer()),
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
