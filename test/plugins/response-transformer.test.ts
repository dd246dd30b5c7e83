// Black-box: response-transformer through the real gateway and a real upstream — header operations in Kong's
// order, JSON body operations with json_types and a correct Content-Length, bodies that are not a JSON object
// or not JSON left as they came, a body that is not rewritten still streamed (its first bytes reach the client
// before the upstream sends the rest), an oversized JSON body passed through unchanged, another plugin's answer
// transformed too, Kong's validation messages and defaults, scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_BUFFERED } from "../../src/plugins/response-transformer/index.ts";
import { startUpstream, type Upstream } from "../proxy/helpers.ts";
import { admin, expectPrecedence, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

let w: PluginWorld;
let origin: Upstream;
/** Released by the streaming test once the client has the first chunk. */
let releaseRest: () => void = () => {};

const BODY = { p1: "v1", p2: "v2", p3: false, nul: null, list: ["a"], nested: { x: 1 }, old: "o" };
const BIG = JSON.stringify({ pad: "x".repeat(MAX_BUFFERED), p1: "v1" });
const encoder = new TextEncoder();

function answer(path: string): Response {
  const json = {
    "content-type": "application/json; charset=utf-8",
    "x-up": "1",
    "x-old": "renamed",
    "x-rep": "r",
  };
  switch (path) {
    case "/json":
      return new Response(JSON.stringify(BODY), { headers: json });
    case "/array":
      return new Response('[{"p1":"v1"}]', { headers: json });
    case "/broken":
      return new Response("{broken", { headers: json });
    case "/problem":
      return new Response('{"p1":"v1"}', { headers: { "content-type": "application/problem+json" } });
    case "/text":
      return new Response('{"p1":"v1"}', { headers: { "content-type": "text/plain", "x-up": "1" } });
    case "/big":
      return new Response(BIG, { headers: json });
    case "/big-chunked": {
      const bytes = encoder.encode(BIG);
      let sent = 0;
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (sent >= bytes.length) return controller.close();
            controller.enqueue(bytes.slice(sent, sent + 65536));
            sent += 65536;
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    }
    case "/stream": {
      const rest = new Promise<void>((resolve) => {
        releaseRest = resolve;
      });
      return new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(encoder.encode("first;"));
            await rest;
            controller.enqueue(encoder.encode("rest"));
            controller.close();
          },
        }),
        { headers: { "content-type": "text/plain" } },
      );
    }
    default:
      return new Response("not found", { status: 404 });
  }
}

const ALL_OPS = {
  remove: { headers: ["x-up"], json: ["p2"] },
  rename: { headers: ["x-old:x-new"], json: ["old:new"] },
  replace: {
    headers: ["x-rep:replaced", "x-absent:never"],
    json: ["p1:replaced", "p3:never", "nul:was null", "none:x"],
  },
  add: { headers: ["x-added:yes", "x-rep:never"], json: ["added:A", "p1:never", "p3:now"] },
  append: { headers: ["x-app:1", "x-app:2"], json: ["list:b", "fresh:c"] },
};

const ROUTES: [string, string, Record<string, unknown>][] = [
  ["/ops", "/json", ALL_OPS],
  [
    "/typed",
    "/json",
    {
      add: {
        json: ["n:42", "b:true", "f:no", "s:text", "bad:notanumber"],
        json_types: ["number", "boolean", "boolean", "string", "number"],
      },
      replace: { json: ["p1:3.5"], json_types: ["number"] },
      append: { json: ["list:1"], json_types: ["number"] },
    },
  ],
  ["/array", "/array", ALL_OPS],
  ["/broken", "/broken", ALL_OPS],
  ["/problem", "/problem", ALL_OPS],
  ["/text", "/text", ALL_OPS],
  ["/stream", "/stream", ALL_OPS],
  ["/big", "/big", { add: { json: ["added:A"] } }],
  ["/big-chunked", "/big-chunked", { add: { json: ["added:A"] } }],
  ["/headers-only", "/json", { add: { headers: ["x-added:yes"] } }],
];

beforeAll(async () => {
  w = await startWorld();
  origin = startUpstream((request) => answer(new URL(request.url).pathname));
  for (const [path, target, config] of ROUTES) {
    const svc = await admin(w.tg, "POST", "/services", { url: `${origin.url}${target}` });
    const route = await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: [path] });
    await admin(w.tg, "POST", `/routes/${route.id}/plugins`, { name: "response-transformer", config });
  }
  const { routes } = await w.service("rsx-terminated", ["/terminated"]);
  await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
    name: "request-termination",
    config: { status_code: 404 },
  });
  await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
    name: "response-transformer",
    config: { add: { json: ["hint:try /ops"], headers: ["x-added:yes"] } },
  });
  await w.synced();
});

afterAll(async () => {
  releaseRest();
  await w.stop();
  await origin.stop();
});

describe("response-transformer", () => {
  test("headers and JSON: Kong's order, a correct Content-Length", async () => {
    const a = await w.call("/ops");
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      p1: "replaced",
      p3: "now",
      nul: "was null",
      list: ["a", "b"],
      nested: { x: 1 },
      new: "o",
      added: "A",
      fresh: ["c"],
    });
    expect(a.headers.get("content-length")).toBe(String(Buffer.byteLength(a.text)));
    const h = a.headers;
    expect({
      up: h.get("x-up"),
      old: h.get("x-old"),
      new: h.get("x-new"),
      rep: h.get("x-rep"),
      absent: h.get("x-absent"),
      added: h.get("x-added"),
      app: h.get("x-app"),
    }).toEqual({
      up: null,
      old: null,
      new: "renamed",
      rep: "replaced",
      absent: null,
      added: "yes",
      app: "1, 2",
    });
  });

  test("json_types: numbers and booleans cast, a value that is not a number skipped", async () => {
    const a = await w.call("/typed");
    expect(a.body).toEqual({ ...BODY, p1: 3.5, list: ["a", 1], n: 42, b: true, f: false, s: "text" });
  });

  test("a JSON array, a malformed body, other media types: body unchanged, headers still transformed", async () => {
    for (const [path, text] of [
      ["/array", '[{"p1":"v1"}]'],
      ["/broken", "{broken"],
      ["/problem", '{"p1":"v1"}'],
      ["/text", '{"p1":"v1"}'],
    ] as const) {
      const a = await w.call(path);
      expect({
        path,
        status: a.status,
        text: a.text,
        length: a.headers.get("content-length"),
        added: a.headers.get("x-added"),
        up: a.headers.get("x-up"),
      }).toEqual({
        path,
        status: 200,
        text,
        length: String(text.length),
        added: "yes",
        up: null,
      });
    }
  });

  test("a body that is not rewritten still streams", async () => {
    const res = await w.tg.proxy("/stream");
    expect(res.headers.get("x-added")).toBe("yes");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    // The upstream holds the rest back until the client has read the first chunk: a buffered body never comes.
    let text = "";
    while (!text.includes("first;")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toBe("first;");
    releaseRest();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toBe("first;rest");
  });

  test(`a JSON body over ${MAX_BUFFERED} bytes goes out unchanged, announced or chunked`, async () => {
    for (const path of ["/big", "/big-chunked"]) {
      const res = await w.tg.proxy(path);
      const text = await res.text();
      expect({ path, status: res.status, same: text === BIG }).toEqual({ path, status: 200, same: true });
    }
  });

  test("header-only configurations leave the body alone", async () => {
    const a = await w.call("/headers-only");
    expect({ body: a.body, added: a.headers.get("x-added") }).toEqual({ body: BODY, added: "yes" });
  });

  test("another plugin's answer is transformed too", async () => {
    const a = await w.call("/terminated");
    expect({ status: a.status, body: a.body, added: a.headers.get("x-added") }).toEqual({
      status: 404,
      body: { message: "Not found", hint: "try /ops" },
      added: "yes",
    });
    expect(a.headers.get("content-length")).toBe(String(Buffer.byteLength(a.text)));
  });

  test("Kong's validation messages", async () => {
    const rt = (config: unknown) => refusedConfig(w, { name: "response-transformer", config });
    expect(await rt({ add: { json: ["novalue"], headers: ["x"] } })).toEqual({
      config: { add: { json: ["invalid value: novalue"], headers: ["invalid value: x"] } },
    });
    expect(await rt({ add: { json_types: ["integer"] } })).toEqual({
      config: { add: { json_types: ["expected one of: boolean, number, string"] } },
    });
    expect(await rt({ rename: { headers: ["x-ok:bad name", "bad name:x"] } })).toEqual({
      config: {
        rename: { headers: ["'bad name' is not a valid header", "'bad name' is not a valid header"] },
      },
    });
    expect(await rt({ remove: "x", replace: { json: [1] }, extra: true })).toEqual({
      config: {
        remove: "expected a record",
        replace: { json: ["expected a string"] },
        extra: "unknown field",
      },
    });
  });

  test("defaults as Kong renders them", async () => {
    const created = await admin(w.tg, "POST", "/plugins", { name: "response-transformer", enabled: false });
    const valued = { json: [], json_types: [], headers: [] };
    expect(created.config).toEqual({
      remove: { json: [], headers: [] },
      rename: { json: [], headers: [] },
      replace: valued,
      add: valued,
      append: valued,
    });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });

  test("global → service → route → consumer precedence", async () => {
    const scoped = (tag: string) => ({ add: { headers: [`x-scope:${tag}`] } });
    await expectPrecedence(
      w,
      "response-transformer",
      {
        global: scoped("global"),
        service: scoped("service"),
        route: scoped("route"),
        consumer: scoped("consumer"),
      },
      async (path, headers) => {
        const a = await w.call(path, { headers });
        return (a.headers.get("x-scope") ?? "none") as "none";
      },
    );
  });
});
