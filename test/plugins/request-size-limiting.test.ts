// Black-box: request-size-limiting through the real gateway and a real upstream — Content-Length judged at
// once (413, 417 with Expect: 100-continue), chunked bodies counted while they stream (the upstream sees the
// first bytes before the client has sent the rest; an oversized one is cut off), 411 when a length is
// required, Kong's units and validation messages, scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseRaw, rawRequest, startUpstream, type Upstream } from "../proxy/helpers.ts";
import { admin, expectPrecedence, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

let w: PluginWorld;
let port: number;
/** An upstream that reads bodies chunk by chunk and records each request it read to the end. */
let counter: Upstream;
const completed: { path: string; bytes: number }[] = [];
let firstBytes: (() => void) | null = null;

const TOO_LARGE = "Request size limit exceeded";

/** One raw HTTP/1.1 request (for Expect and hand-made chunked bodies, which fetch does not send). */
async function raw(method: string, path: string, headers: Record<string, string>, body = "") {
  const head = Object.entries({ host: "localhost", connection: "close", ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const text = await rawRequest(port, `${method} ${path} HTTP/1.1\r\n${head}\r\n${body}`, 3000);
  // An interim 100 Continue (sent when the body is asked for) comes before the answer.
  const answer = parseRaw(text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ""));
  return { ...answer, json: answer.body ? JSON.parse(answer.body) : null };
}

/** A chunked body of `size` bytes in chunks of at most 1000. */
function chunked(size: number): string {
  let out = "";
  for (let left = size; left > 0; left -= 1000) {
    const n = Math.min(1000, left);
    out += `${n.toString(16)}\r\n${"a".repeat(n)}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

beforeAll(async () => {
  w = await startWorld();
  port = Number(new URL(w.tg.proxyUrl).port);
  counter = startUpstream(
    async (request) => {
      let bytes = 0;
      // A GET's body is not forwarded.
      const reader = (request.body ?? new Response("").body!).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        firstBytes?.();
      }
      completed.push({ path: new URL(request.url).pathname, bytes });
      return Response.json({ bytes });
    },
    { readBody: false },
  );
  const svc = await admin(w.tg, "POST", "/services", { name: "rsl", url: counter.url });
  const routes: [string, Record<string, unknown>][] = [
    ["/kb", { allowed_payload_size: 16, size_unit: "kilobytes" }],
    ["/bytes", { allowed_payload_size: 100, size_unit: "bytes" }],
    ["/mb", { allowed_payload_size: 1 }],
    ["/required", { allowed_payload_size: 16, size_unit: "kilobytes", require_content_length: true }],
  ];
  for (const [path, config] of routes) {
    const route = await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: [path] });
    await admin(w.tg, "POST", `/routes/${route.id}/plugins`, { name: "request-size-limiting", config });
  }
  // key-auth (priority 1250) reads the body before the limit (951) is checked.
  const read = await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: ["/read-first"] });
  await admin(w.tg, "POST", `/routes/${read.id}/plugins`, {
    name: "key-auth",
    config: { key_in_body: true },
  });
  await admin(w.tg, "POST", `/routes/${read.id}/plugins`, {
    name: "request-size-limiting",
    config: { allowed_payload_size: 100, size_unit: "bytes" },
  });
  await w.consumer({ username: "sizer" });
  await admin(w.tg, "POST", "/consumers/sizer/key-auth", { key: "size-key" });
  await w.synced();
});

afterAll(() => Promise.all([w.stop(), counter.stop()]));

describe("request-size-limiting with Content-Length", () => {
  test("up to the limit passes, one byte over is 413 before anything reaches the upstream", async () => {
    for (const [path, limit] of [
      ["/kb", 16 * 1024],
      ["/bytes", 100],
    ] as const) {
      expect((await w.call(path, { method: "POST", body: "a".repeat(limit) })).body).toEqual({
        bytes: limit,
      });
      const before = completed.length;
      await w.refused(path, { method: "POST", body: "a".repeat(limit + 1) }, 413, TOO_LARGE);
      expect(completed.length).toBe(before);
    }
  });

  test("megabytes are 2^20 bytes", async () => {
    expect((await w.call("/mb", { method: "POST", body: "a".repeat(1048576) })).status).toBe(200);
    await w.refused("/mb", { method: "POST", body: "a".repeat(1048577) }, 413, TOO_LARGE);
  });

  test("Expect: 100-continue gets 417 instead, and the body is never asked for", async () => {
    const answer = await raw("POST", "/bytes", { "content-length": "101", expect: "100-continue" });
    expect(answer.status).toBe(417);
    expect(answer.json.message).toBe(TOO_LARGE);
    const ok = await raw(
      "POST",
      "/bytes",
      { "content-length": "10", expect: "100-continue" },
      "a".repeat(10),
    );
    expect(ok.body.includes('{"bytes":10}')).toBe(true);
  });
});

describe("request-size-limiting on bodies of unannounced length", () => {
  test("a chunked body under the limit streams through whole", async () => {
    const answer = await raw("POST", "/kb", { "transfer-encoding": "chunked" }, chunked(16 * 1024));
    expect({ status: answer.status, json: answer.json }).toEqual({ status: 200, json: { bytes: 16 * 1024 } });
  });

  test("a chunked body over the limit: 413 (417 with Expect), and the upstream never gets all of it", async () => {
    const before = completed.length;
    const answer = await raw("POST", "/kb", { "transfer-encoding": "chunked" }, chunked(16 * 1024 + 1));
    expect({ status: answer.status, message: answer.json?.message }).toEqual({
      status: 413,
      message: TOO_LARGE,
    });
    const expecting = await raw(
      "POST",
      "/bytes",
      { "transfer-encoding": "chunked", expect: "100-continue" },
      chunked(500),
    );
    expect({ status: expecting.status, message: expecting.json?.message }).toEqual({
      status: 417,
      message: TOO_LARGE,
    });
    expect(completed.slice(before)).toEqual([]);
  });

  test("a GET's chunked body never reaches the upstream (Bun drops it; Kong would measure it, 413)", async () => {
    const answer = await raw("GET", "/bytes", { "transfer-encoding": "chunked" }, chunked(101));
    expect({ status: answer.status, json: answer.json }).toEqual({ status: 200, json: { bytes: 0 } });
  });

  test("the body is counted as it streams, not buffered: the upstream reads the first bytes before the rest is sent", async () => {
    const arrived = new Promise<void>((resolve) => {
      firstBytes = resolve;
    });
    let sendRest: () => void = () => {};
    const rest = new Promise<void>((resolve) => {
      sendRest = resolve;
    });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(4096).fill(98));
        await rest;
        controller.enqueue(new Uint8Array(4096).fill(99));
        controller.close();
      },
    });
    const pending = w.tg.proxy("/kb", { method: "POST", body, duplex: "half" } as RequestInit);
    await arrived;
    firstBytes = null;
    sendRest();
    expect(await (await pending).json()).toEqual({ bytes: 8192 });
  });
});

describe("request-size-limiting after another plugin read the body", () => {
  test("the body already read is measured: 413 over the limit, passed on under it", async () => {
    const form = (padding: number) => `apikey=size-key&pad=${"p".repeat(padding)}`;
    const type = { "content-type": "application/x-www-form-urlencoded", "transfer-encoding": "chunked" };
    const over = await raw(
      "POST",
      "/read-first",
      type,
      chunked(0).replace(/^/, `${(110).toString(16)}\r\n${form(110 - 20)}\r\n`),
    );
    expect({ status: over.status, message: over.json?.message }).toEqual({ status: 413, message: TOO_LARGE });
    const under = await raw("POST", "/read-first", type, `${(50).toString(16)}\r\n${form(30)}\r\n0\r\n\r\n`);
    expect({ status: under.status, json: under.json }).toEqual({ status: 200, json: { bytes: 50 } });
  });
});

describe("require_content_length", () => {
  test("no Content-Length and not chunked: 411", async () => {
    await w.refused("/required", undefined, 411, "A valid Content-Length header is required");
  });

  test("a Content-Length or a chunked body is accepted, and still limited", async () => {
    expect((await w.call("/required", { method: "POST", body: "abc" })).body).toEqual({ bytes: 3 });
    expect((await raw("POST", "/required", { "transfer-encoding": "chunked" }, chunked(10))).json).toEqual({
      bytes: 10,
    });
    await w.refused("/required", { method: "POST", body: "a".repeat(16 * 1024 + 1) }, 413, TOO_LARGE);
  });
});

describe("request-size-limiting configuration", () => {
  test("bad configs are refused with Kong's messages", async () => {
    expect(
      await refusedConfig(w, {
        name: "request-size-limiting",
        config: { allowed_payload_size: 1.5, size_unit: "gigabytes", require_content_length: "yes" },
      }),
    ).toEqual({
      config: {
        allowed_payload_size: "expected an integer",
        size_unit: "expected one of: megabytes, kilobytes, bytes",
        require_content_length: "expected a boolean",
      },
    });
    expect(await refusedConfig(w, { name: "request-size-limiting", config: { size_unit: null } })).toEqual({
      config: { size_unit: "required field missing" },
    });
  });

  test("defaults as Kong renders them", async () => {
    const created = await admin(w.tg, "POST", "/plugins", { name: "request-size-limiting", enabled: false });
    expect(created.config).toEqual({
      allowed_payload_size: 128,
      size_unit: "megabytes",
      require_content_length: false,
    });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });

  test("scope precedence: global → service → route → consumer", async () => {
    const bytes = (n: number) => ({ allowed_payload_size: n, size_unit: "bytes" });
    await expectPrecedence(
      w,
      "request-size-limiting",
      { global: bytes(10), service: bytes(20), route: bytes(30), consumer: bytes(40) },
      async (path, headers) => {
        // The smallest body refused tells which limit applies.
        for (const [size, scope] of [
          [15, "global"],
          [25, "service"],
          [35, "route"],
          [45, "consumer"],
        ] as const) {
          const { status } = await w.call(path, { method: "POST", headers, body: "a".repeat(size) });
          if (status === 413) return scope;
        }
        return "none";
      },
    );
  });
});
