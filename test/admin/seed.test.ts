// The seed library's service-management URLs (../shared/seeds/000_*.txt) on the admin listener:
// POST /service (JSON body or the example's query parameters), DELETE /service, PATCH /services (reload and
// health list), and --no-service-management turning them off.
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import {
  call,
  createRoute,
  createService,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  route,
  service,
} from "./helpers.ts";

const TAGS = ["service-management"];
const nameError = (v: string) =>
  `invalid value '${v}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`;

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

/** The service and route POST /service creates for `name`, read back through Kong's API. */
async function created(name: string, fields: Record<string, unknown>) {
  const svc = await call(tg, `/services/${encodeURIComponent(name)}`);
  expect(svc.status).toBe(200);
  expect(svc.body).toEqual(service(svc.body, { name, tags: TAGS, ...fields }));
  const rt = await call(tg, `/routes/${encodeURIComponent(name)}`);
  expect(rt.status).toBe(200);
  expect(rt.body).toEqual(
    route(rt.body, {
      name,
      paths: [`/${encodeURIComponent(name)}`],
      strip_path: true,
      tags: TAGS,
      service: { id: svc.body.id },
    }),
  );
  return { svc: svc.body, rt: rt.body };
}

async function expectRefusal(
  path: string,
  init: Parameters<typeof call>[2],
  status: number,
  reason: string,
): Promise<void> {
  const version = await tg.gateway.store.configVersion();
  const res = await call(tg, path, init);
  expect({ status: res.status, body: res.body, reason: res.headers.get("x-portico-error") }).toEqual({
    status,
    body: false,
    reason,
  });
  expect(await tg.gateway.store.configVersion()).toBe(version);
}

describe("POST /service", () => {
  test("the documented JSON body creates a service and its route; visible in Kong's lists", async () => {
    const res = await call(tg, "/service", {
      method: "POST",
      body: { domain: "http://127.0.0.1", name_service: "Hello", port: 8080 },
    });
    expect(res).toMatchObject({ status: 201, body: true, text: "true" });
    const { svc, rt } = await created("Hello", { host: "127.0.0.1", port: 8080 });
    expect((await call(tg, "/services?size=1000")).body.data).toContainEqual(svc);
    expect((await call(tg, "/routes?size=1000")).body.data).toContainEqual(rt);
    expect((await call(tg, "/services/Hello/routes")).body).toEqual({ data: [rt], next: null });
  });

  test("the documented example's query parameters: a bare ip means http://", async () => {
    const res = await call(tg, "/service?ip=127.0.0.1&port=8080&name_service=Hello2", { method: "POST" });
    expect(res).toMatchObject({ status: 201, body: true });
    await created("Hello2", { protocol: "http", host: "127.0.0.1", port: 8080 });
  });

  test("an ip with a scheme keeps it", async () => {
    const res = await call(tg, "/service?ip=https://10.0.0.1&port=8443&name_service=q-https", {
      method: "POST",
    });
    expect(res).toMatchObject({ status: 201, body: true });
    await created("q-https", { protocol: "https", host: "10.0.0.1", port: 8443 });
  });

  test("without a port: 80 for http, 443 for https", async () => {
    expect(
      (
        await call(tg, "/service", {
          method: "POST",
          body: { domain: "http://plain.example", name_service: "np" },
        })
      ).status,
    ).toBe(201);
    await created("np", { protocol: "http", host: "plain.example", port: 80 });
    expect(
      (
        await call(tg, "/service", {
          method: "POST",
          body: { domain: "https://tls.example", name_service: "tp" },
        })
      ).status,
    ).toBe(201);
    await created("tp", { protocol: "https", host: "tls.example", port: 443 });
  });

  test("a domain with a path becomes the service's path; the port may be a string", async () => {
    const res = await call(tg, "/service", {
      method: "POST",
      body: { domain: "http://api.example/v1", name_service: "with-path", port: "9000" },
    });
    expect(res.status).toBe(201);
    await created("with-path", { host: "api.example", port: 9000, path: "/v1" });
  });

  test("a form body works too, and unicode names get an escaped route path", async () => {
    const res = await call(tg, "/service", {
      method: "POST",
      body: new URLSearchParams({ domain: "http://form.example", name_service: "円", port: "81" }),
    });
    expect(res.status).toBe(201);
    await created("円", { host: "form.example", port: 81 });
  });

  test("refusals answer false with the reason in X-Portico-Error and write nothing", async () => {
    const post = (body: unknown) => ({ method: "POST" as const, body });
    await expectRefusal(
      "/service",
      post({ domain: "http://127.0.0.1:8080", name_service: "H3", port: 8080 }),
      400,
      "'domain' must not include a port; pass it as 'port' (got 'http://127.0.0.1:8080')",
    );
    await expectRefusal(
      "/service",
      post({ domain: "127.0.0.1", name_service: "H3", port: 8080 }),
      400,
      "'domain' must include the protocol, e.g. http://127.0.0.1 (got '127.0.0.1')",
    );
    await expectRefusal(
      "/service",
      post({ domain: "ftp://files.example", name_service: "H3" }),
      400,
      "'domain' protocol must be http or https (got 'ftp')",
    );
    await expectRefusal(
      "/service",
      post({ domain: "http://", name_service: "H3" }),
      400,
      "'domain' has no host (got 'http://')",
    );
    await expectRefusal(
      "/service",
      post({ name_service: "H3", port: 80 }),
      400,
      "'domain' (or 'ip') is required, e.g. http://127.0.0.1",
    );
    await expectRefusal("/service", post({ domain: "http://a.example" }), 400, "'name_service' is required");
    await expectRefusal(
      "/service",
      post({ domain: "http://a.example", name_service: "a b" }),
      400,
      `'name_service': ${nameError("a b")}`,
    );
    await expectRefusal(
      "/service",
      post({ domain: "http://a.example", name_service: "H3", port: 70000 }),
      400,
      "'port' must be an integer between 1 and 65535 (got '70000')",
    );
    await expectRefusal(
      "/service",
      post({ domain: "http://a.example", name_service: "H3", port: "abc" }),
      400,
      "'port' must be an integer between 1 and 65535 (got 'abc')",
    );
    await expectRefusal(
      "/service",
      post({ domain: "http://bad_host!", name_service: "H3" }),
      400,
      "schema violation (host: invalid value: bad_host!)",
    );
    await expectRefusal(
      "/service",
      { method: "POST", body: "{x", headers: { "content-type": "application/json" } },
      400,
      "Cannot parse JSON body",
    );
    await expectRefusal(
      "/service",
      { method: "POST", body: "x", headers: { "content-type": "text/plain" } },
      415,
      "Unsupported Content-Type 'text/plain': use application/json or a form",
    );
    expect((await call(tg, "/services/H3")).status).toBe(404);
    expect((await call(tg, "/routes/H3")).status).toBe(404);
  });

  test("a duplicate name is false with 409", async () => {
    await expectRefusal(
      "/service",
      { method: "POST", body: { domain: "http://other.example", name_service: "Hello", port: 1 } },
      409,
      `UNIQUE violation detected on '{name="Hello"}'`,
    );
    await expectRefusal(
      "/service?ip=127.0.0.1&port=8080&name_service=Hello2",
      { method: "POST" },
      409,
      `UNIQUE violation detected on '{name="Hello2"}'`,
    );
  });

  test("when the route cannot be created, no service is left behind", async () => {
    await createRoute(tg, { name: "route-taken", paths: ["/elsewhere"] });
    await expectRefusal(
      "/service",
      { method: "POST", body: { domain: "http://a.example", name_service: "route-taken" } },
      409,
      `UNIQUE violation detected on '{name="route-taken"}'`,
    );
    expect((await call(tg, "/services/route-taken")).status).toBe(404);
  });

  test("a non-ASCII reason is escaped in the header", async () => {
    await expectRefusal(
      "/service",
      { method: "POST", body: { domain: "http://a.example", name_service: "円" } },
      409,
      `UNIQUE violation detected on '{name="\\u5186"}'`,
    );
  });

  test("control characters in a reason cannot inject headers or log lines", async () => {
    const warn = spyOn(console, "warn").mockImplementation(() => {});
    try {
      const reason = `'name_service': ${nameError("a\\u000d\\u000aX-Evil: 1")}`;
      await expectRefusal(
        "/service",
        { method: "POST", body: { domain: "http://a.example", name_service: "a\r\nX-Evil: 1" } },
        400,
        reason,
      );
      expect(warn.mock.calls).toEqual([[`service management: refused (400): ${reason}`]]);
    } finally {
      warn.mockRestore();
    }
  });

  test("40 concurrent POST /service of one name: exactly one true", async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, () =>
        call(tg, "/service", {
          method: "POST",
          body: { domain: "http://race.example", name_service: "race" },
        }),
      ),
    );
    expect(replies.filter((r) => r.status === 201 && r.body === true).length).toBe(1);
    for (const r of replies.filter((r) => r.status !== 201))
      expect({ status: r.status, body: r.body }).toEqual({ status: 409, body: false });
    await created("race", { host: "race.example" });
  });

  test("GET /service is not a thing (405)", async () => {
    expect(await call(tg, "/service")).toMatchObject({ status: 405, body: METHOD_NOT_ALLOWED });
  });
});

describe("DELETE /service", () => {
  test("by JSON body: removes the service and its route", async () => {
    await call(tg, "/service", {
      method: "POST",
      body: { domain: "http://d.example", name_service: "del-body" },
    });
    const { svc, rt } = await created("del-body", { host: "d.example" });
    const res = await call(tg, "/service", { method: "DELETE", body: { name_service: "del-body" } });
    expect(res).toMatchObject({ status: 200, body: true });
    expect((await call(tg, `/services/${svc.id}`)).status).toBe(404);
    expect((await call(tg, `/routes/${rt.id}`)).status).toBe(404);
  });

  test("by ?name_service=", async () => {
    const res = await call(tg, "/service?name_service=Hello2", { method: "DELETE" });
    expect(res).toMatchObject({ status: 200, body: true });
    expect((await call(tg, "/services/Hello2")).status).toBe(404);
    expect((await call(tg, "/routes/Hello2")).status).toBe(404);
  });

  test("a service made through Kong's API (no seed route) is removed too", async () => {
    await createService(tg, { name: "kong-made", host: "k.example" });
    expect(await call(tg, "/service?name_service=kong-made", { method: "DELETE" })).toMatchObject({
      status: 200,
      body: true,
    });
    expect((await call(tg, "/services/kong-made")).status).toBe(404);
  });

  test("refusals: unknown name, missing name, other routes still attached", async () => {
    await expectRefusal("/service?name_service=ghost", { method: "DELETE" }, 404, "no service named 'ghost'");
    await expectRefusal("/service", { method: "DELETE" }, 400, "'name_service' is required");
    await expectRefusal(
      "/service",
      { method: "DELETE", body: { name_service: "a/b" } },
      400,
      `'name_service': ${nameError("a/b")}`,
    );
    await createRoute(tg, { name: "extra", paths: ["/extra"], service: { name: "Hello" } });
    await expectRefusal(
      "/service",
      { method: "DELETE", body: { name_service: "Hello" } },
      409,
      "service 'Hello' still has 1 other route(s); delete them first",
    );
    expect((await call(tg, "/services/Hello")).status).toBe(200);
    expect((await call(tg, "/routes/Hello")).status).toBe(200);
  });
});

describe("PATCH /services (refresh)", () => {
  test("reloads the proxy and answers the health of every enabled service", async () => {
    const own = await startTestGateway();
    const upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("teapot", { status: 418 }),
    });
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const closedPort = closed.port!;
    closed.stop(true);
    try {
      for (const [name, port] of [
        ["up-svc", upstream.port!],
        ["down-svc", closedPort],
      ] as const) {
        const res = await call(own, "/service", {
          method: "POST",
          body: { domain: "http://127.0.0.1", name_service: name, port },
        });
        expect(res.status).toBe(201);
      }
      await createService(own, { name: "off-svc", host: "127.0.0.1", port: closedPort, enabled: false });
      await createService(own, { name: "pathy", url: `http://127.0.0.1:${upstream.port}/base` });
      const services = (await call(own, "/services")).body.data as { id: string; name: string }[];
      const id = (name: string) => services.find((s) => s.name === name)!.id;

      const res = await call(own, "/services", { method: "PATCH" });
      expect(res.status).toBe(200);
      const list = res.body as { latency_ms: number }[];
      for (const item of list) {
        expect(typeof item.latency_ms).toBe("number");
        expect(item.latency_ms).toBeGreaterThanOrEqual(0);
        expect(item.latency_ms).toBeLessThan(5000);
      }
      const expected = [
        {
          id: id("up-svc"),
          name: "up-svc",
          url: `http://127.0.0.1:${upstream.port}/`,
          up: true,
          status: 418,
          error: null,
        },
        {
          id: id("down-svc"),
          name: "down-svc",
          url: `http://127.0.0.1:${closedPort}/`,
          up: false,
          status: null,
          error: "ECONNREFUSED",
        },
        {
          id: id("pathy"),
          name: "pathy",
          url: `http://127.0.0.1:${upstream.port}/base`,
          up: true,
          status: 418,
          error: null,
        },
      ].sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(list).toEqual(expected.map((e, i) => ({ ...e, latency_ms: list[i]!.latency_ms })));
      // the proxy serves the store's configuration once the refresh has answered
      expect(own.gateway.servedVersion()).toBe(await own.gateway.store.configVersion());
    } finally {
      upstream.stop(true);
      await own.stop();
    }
  });

  test("with no services the list is empty", async () => {
    const own = await startTestGateway();
    try {
      expect(await call(own, "/services", { method: "PATCH" })).toMatchObject({ status: 200, body: [] });
    } finally {
      await own.stop();
    }
  });
});

describe("--no-service-management", () => {
  let off: TestGateway;
  beforeAll(async () => {
    off = await startTestGateway(["--no-service-management"]);
  });
  afterAll(() => off.stop());

  test("POST /service, DELETE /service and PATCH /services are 404", async () => {
    for (const [method, path, body] of [
      ["POST", "/service", { domain: "http://127.0.0.1", name_service: "x", port: 80 }],
      ["POST", "/service?ip=127.0.0.1&port=80&name_service=x", undefined],
      ["DELETE", "/service", { name_service: "x" }],
      ["DELETE", "/service?name_service=x", undefined],
      ["PATCH", "/services", undefined],
      ["OPTIONS", "/service", undefined],
    ] as const) {
      const res = await call(off, path, { method, body });
      expect({ method, path, status: res.status, body: res.body }).toEqual({
        method,
        path,
        status: 404,
        body: NOT_FOUND,
      });
    }
    expect((await call(off, "/services/x")).status).toBe(404);
  });

  test("Kong's /services is untouched", async () => {
    const svc = await createService(off, { name: "still-here", host: "a.example" });
    expect((await call(off, "/services")).body).toEqual({ data: [svc], next: null });
    const options = await off.admin("/services", { method: "OPTIONS" });
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS, POST");
  });
});
