// Black-box: key_in_body reads the request body before forwarding it; that read must honour the proxy body
// limit like the streaming path does (a chunked upload cannot make the gateway buffer without bound).
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

function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
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
