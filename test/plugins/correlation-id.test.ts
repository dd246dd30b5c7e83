// Black-box: correlation-id through the real gateway — the id is generated when the client sent none (each
// generator's format), kept when it did, passed upstream under the configured header, echoed on the response
// (also on another plugin's answer) with echo_downstream; uuid#counter never repeats, also across proxy
// workers; Kong's validation messages and defaults; scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, expectPrecedence, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

let w: PluginWorld;

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

const ROUTES: [string, Record<string, unknown>][] = [
  ["/default", {}],
  ["/uuid", { generator: "uuid", header_name: "X-Request-Trace" }],
  ["/tracker", { generator: "tracker", echo_downstream: true }],
  ["/echo", { echo_downstream: true, header_name: "X-Corr" }],
  ["/echo-terminated", { echo_downstream: true, header_name: "X-Corr" }],
];

beforeAll(async () => {
  w = await startWorld();
  const { routes } = await w.service(
    "cid",
    ROUTES.map(([p]) => p),
  );
  for (let i = 0; i < ROUTES.length; i++)
    await admin(w.tg, "POST", `/routes/${routes[i]}/plugins`, {
      name: "correlation-id",
      config: ROUTES[i]![1],
    });
  await admin(w.tg, "POST", `/routes/${routes[4]}/plugins`, {
    name: "request-termination",
    config: { status_code: 401 },
  });
  await w.synced();
});

afterAll(() => w.stop());

describe("correlation-id", () => {
  test("default: Kong-Request-ID as this worker's UUID and a counter, upstream only", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await w.tg.proxy("/default");
      const echo = await res.json();
      ids.push(echo.headers["kong-request-id"]);
      expect(res.headers.get("kong-request-id")).toBeNull();
    }
    const [first] = ids;
    expect(first).toMatch(new RegExp(`^${UUID}#\\d+$`));
    const prefix = first!.split("#")[0];
    const counters = ids.map((id) => {
      expect(id.split("#")[0]).toBe(prefix!);
      return Number(id.split("#")[1]);
    });
    // One counter per worker, every request counted once.
    expect(counters).toEqual(counters.map((_, i) => counters[0]! + i));
  });

  test("uuid: a fresh UUID per request in the configured header", async () => {
    const a = await w.pass("/uuid");
    const b = await w.pass("/uuid");
    expect(a.headers["x-request-trace"]).toMatch(new RegExp(`^${UUID}$`));
    expect(b.headers["x-request-trace"]).toMatch(new RegExp(`^${UUID}$`));
    expect(a.headers["x-request-trace"]).not.toBe(b.headers["x-request-trace"]);
    expect(a.headers["kong-request-id"]).toBeUndefined();
  });

  test("tracker: address, port, pid, worker, request count and time; echoed", async () => {
    const res = await w.tg.proxy("/tracker");
    const echo = await res.json();
    const id = echo.headers["kong-request-id"];
    const port = new URL(w.tg.proxyUrl).port;
    expect(id).toMatch(new RegExp(`^127\\.0\\.0\\.1-${port}-${process.pid}-\\d+-\\d+-\\d+\\.\\d{3}$`));
    expect(res.headers.get("kong-request-id")).toBe(id);
    const seconds = Number(id.split("-").at(-1));
    expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(600);
  });

  test("a client's id is kept (upstream and echoed); an empty one is replaced", async () => {
    const res = await w.tg.proxy("/echo", { headers: { "x-corr": "client-chosen" } });
    expect((await res.json()).headers["x-corr"]).toBe("client-chosen");
    expect(res.headers.get("x-corr")).toBe("client-chosen");
    const kept = await w.pass("/default", { headers: { "kong-request-id": "mine" } });
    expect(kept.headers["kong-request-id"]).toBe("mine");
    const empty = await w.tg.proxy("/echo", { headers: { "x-corr": "" } });
    const sent = (await empty.json()).headers["x-corr"];
    expect(sent).toMatch(new RegExp(`^${UUID}#\\d+$`));
    expect(empty.headers.get("x-corr")).toBe(sent);
  });

  test("echo_downstream reaches another plugin's answer too", async () => {
    const a = await w.call("/echo-terminated");
    expect({ status: a.status, body: a.body }).toEqual({ status: 401, body: { message: "Unauthorized" } });
    expect(a.headers.get("x-corr")).toMatch(new RegExp(`^${UUID}#\\d+$`));
  });

  test("Kong's validation messages and defaults", async () => {
    const cid = (config: unknown) => refusedConfig(w, { name: "correlation-id", config });
    expect(await cid({ generator: "snowflake" })).toEqual({
      config: { generator: "expected one of: uuid, uuid#counter, tracker" },
    });
    expect(await cid({ generator: null })).toEqual({ config: { generator: "required field missing" } });
    expect(await cid({ echo_downstream: "yes", header_name: 5 })).toEqual({
      config: { echo_downstream: "expected a boolean", header_name: "expected a string" },
    });
    const created = await admin(w.tg, "POST", "/plugins", { name: "correlation-id", enabled: false });
    expect(created.config).toEqual({
      header_name: "Kong-Request-ID",
      generator: "uuid#counter",
      echo_downstream: false,
    });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });

  // Consumer-scoped configurations are accepted (Kong's scoping) but cannot act on the request: the plugin runs
  // before any authentication plugin has identified the consumer (as in Kong, where they apply only in later phases).
  test("global → service → route precedence", async () => {
    const names = { global: "x-g", service: "x-s", route: "x-r", consumer: "x-c" } as const;
    await expectPrecedence(
      w,
      "correlation-id",
      {
        global: { header_name: names.global },
        service: { header_name: names.service },
        route: { header_name: names.route },
      },
      async (path, headers) => {
        const echo = await w.pass(path, { headers });
        const acted = (Object.keys(names) as (keyof typeof names)[]).filter((s) => echo.headers[names[s]]);
        return acted.length === 0 ? "none" : acted.length === 1 ? acted[0]! : (acted.join() as "none");
      },
    );
  });
});

describe("several proxy workers", () => {
  test("uuid#counter ids never repeat across workers", async () => {
    const multi = await startWorld(["--workers", "2"]);
    try {
      await multi.service("cid-workers", ["/ids"]);
      await admin(multi.tg, "POST", "/plugins", { name: "correlation-id" });
      await multi.synced();
      const ids: string[] = [];
      // Fresh connections spread over the workers (the kernel balances SO_REUSEPORT sockets per connection).
      for (let i = 0; i < 40; i++) {
        const echo = await multi.pass("/ids", { headers: { connection: "close" } });
        ids.push(echo.headers["kong-request-id"]!);
      }
      expect(new Set(ids).size).toBe(ids.length);
      const workers = new Set(ids.map((id) => id.split("#")[0]));
      expect(workers.size).toBe(2);
    } finally {
      await multi.stop();
    }
  });
});
