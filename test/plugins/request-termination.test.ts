// Black-box: request-termination through the real gateway — Kong's default messages per status, custom
// message, raw body with its content type, no body for statuses Kong has no message for, the trigger as a
// header or query argument, echo of the request, Kong's validation messages, scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, expectPrecedence, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

let w: PluginWorld;
let routeIds: Record<string, string>;
let serviceId: string;

const ROUTES: [string, Record<string, unknown>][] = [
  ["/default", {}],
  ["/not-found", { status_code: 404 }],
  ["/custom", { status_code: 406, message: "Invalid" }],
  [
    "/html",
    { body: "<html><body><h1>Service is down for maintenance</h1></body></html>", content_type: "text/html" },
  ],
  [
    "/raw-451",
    {
      status_code: 451,
      body: '{"code": 1, "message": "Service unavailable"}',
      content_type: "application/json",
    },
  ],
  ["/no-content", { status_code: 204 }],
  ["/teapot", { status_code: 418 }],
  ["/triggered", { trigger: "Gimme-An-Echo", echo: true, status_code: 404 }],
  ["/plain-trigger", { trigger: "stop" }],
];

beforeAll(async () => {
  w = await startWorld();
  const svc = await w.service(
    "rt",
    ROUTES.map(([p]) => p),
  );
  serviceId = svc.id;
  routeIds = {};
  for (let i = 0; i < ROUTES.length; i++) {
    routeIds[ROUTES[i]![0]] = svc.routes[i]!;
    await admin(w.tg, "POST", `/routes/${svc.routes[i]}/plugins`, {
      name: "request-termination",
      config: ROUTES[i]![1],
    });
  }
  const echoRoute = await admin(w.tg, "POST", `/services/${svc.id}/routes`, {
    name: "echo-route",
    paths: ["~/echo/(?<parameter>[a-z]+)/200$"],
  });
  routeIds.echo = echoRoute.id;
  await admin(w.tg, "POST", `/routes/${echoRoute.id}/plugins`, {
    name: "request-termination",
    config: { echo: true, status_code: 404 },
  });
  await w.synced();
});

afterAll(() => w.stop());

const JSON_TYPE = "application/json; charset=utf-8";

describe("request-termination", () => {
  test("default: 503 Service unavailable, Kong's body (no request id), never reaches the upstream", async () => {
    const before = w.upstream.received.length;
    const a = await w.call("/default");
    expect({ status: a.status, body: a.body, type: a.headers.get("content-type") }).toEqual({
      status: 503,
      body: { message: "Service unavailable" },
      type: JSON_TYPE,
    });
    expect(a.headers.get("server")).toStartWith("portico/");
    expect(a.headers.get("x-portico-request-id")).toBeTruthy();
    expect(w.upstream.received.length).toBe(before);
  });

  test("a status with Kong's default message, a custom message", async () => {
    expect((await w.call("/not-found")).text).toBe('{"message":"Not found"}');
    const custom = await w.call("/custom");
    expect({ status: custom.status, text: custom.text }).toEqual({
      status: 406,
      text: '{"message":"Invalid"}',
    });
  });

  test("body and content_type are sent as configured", async () => {
    const html = await w.call("/html");
    expect({ status: html.status, text: html.text, type: html.headers.get("content-type") }).toEqual({
      status: 503,
      text: "<html><body><h1>Service is down for maintenance</h1></body></html>",
      type: "text/html",
    });
    const raw = await w.call("/raw-451");
    expect({ status: raw.status, body: raw.body, type: raw.headers.get("content-type") }).toEqual({
      status: 451,
      body: { code: 1, message: "Service unavailable" },
      type: "application/json",
    });
  });

  test("no message for a status Kong has none for: no body; 204 without Content-Length", async () => {
    const teapot = await w.call("/teapot");
    expect({ status: teapot.status, text: teapot.text }).toEqual({ status: 418, text: "" });
    const res = await w.tg.proxy("/no-content");
    expect({ status: res.status, length: res.headers.get("content-length"), text: await res.text() }).toEqual(
      {
        status: 204,
        length: null,
        text: "",
      },
    );
  });

  test("trigger: only requests with the header or the query argument are terminated", async () => {
    await w.pass("/plain-trigger");
    await w.pass("/plain-trigger?other=1", { headers: { "x-stop": "1" } });
    for (const init of [{ headers: { stop: "" } }, { headers: { Stop: "yes" } }] as RequestInit[]) {
      const a = await w.call("/plain-trigger", init);
      expect({ status: a.status, body: a.body }).toEqual({
        status: 503,
        body: { message: "Service unavailable" },
      });
    }
    for (const q of ["?stop", "?stop=1", "?a=b&stop="])
      expect((await w.call(`/plain-trigger${q}`)).status).toBe(503);
    // Prototype names are not arguments the request carries.
    await w.pass("/plain-trigger?constructor=1&__proto__=x");
  });

  test("echo: the request as the gateway saw it, with named and numbered captures", async () => {
    const a = await w.call("/echo/status/200?hello=there&flag&a=1&a=2", {
      method: "POST",
      headers: { "content-type": "application/json", "x-thing": "yes" },
      body: '{"cool":"body"}',
    });
    expect(a.status).toBe(404);
    expect(a.headers.get("content-type")).toBe(JSON_TYPE);
    const { request, kong, message, matched_route, matched_service } = a.body;
    expect(message).toBe("Not found");
    expect(kong.worker_pid).toBe(process.pid);
    expect(typeof kong.hostname).toBe("string");
    expect(matched_route).toEqual({ id: routeIds.echo, name: "echo-route" });
    expect(matched_service).toEqual({ id: serviceId, name: "rt" });
    delete request.headers["user-agent"];
    delete request.headers.accept;
    delete request.headers["accept-encoding"];
    delete request.headers.connection;
    expect(request).toEqual({
      scheme: "http",
      host: "127.0.0.1",
      port: Number(new URL(w.tg.proxyUrl).port),
      headers: {
        "content-type": "application/json",
        "content-length": "15",
        host: `127.0.0.1:${Number(new URL(w.tg.proxyUrl).port)}`,
        "x-thing": "yes",
      },
      query: { hello: "there", flag: true, a: ["1", "2"] },
      body: { cool: "body" },
      raw_body: '{"cool":"body"}',
      method: "POST",
      path: "/echo/status/200",
      uri_captures: { unnamed: ["status"], named: { parameter: "status" } },
    });
  });

  test("echo with a trigger: terminated only when asked, as a query argument too", async () => {
    await w.pass("/triggered");
    const viaHeader = await w.call("/triggered", { headers: { "gimme-an-echo": "anything will do" } });
    expect(viaHeader.status).toBe(404);
    expect(viaHeader.body.request.headers["gimme-an-echo"]).toBe("anything will do");
    expect(viaHeader.body.request.uri_captures).toEqual({ unnamed: [], named: {} });
    expect(viaHeader.body.request.raw_body).toBe("");
    expect(viaHeader.body.request.body).toBeUndefined();
    const viaQuery = await w.call("/triggered?gimme-an-echo=x&hello=there");
    expect(viaQuery.body.request.query).toEqual({ "gimme-an-echo": "x", hello: "there" });
    const form = await w.call("/triggered?gimme-an-echo", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=1&b=two+words",
    });
    expect(form.body.request.body).toEqual({ a: "1", b: "two words" });
  });

  test("Kong's validation messages", async () => {
    const rt = (config: unknown) => refusedConfig(w, { name: "request-termination", config });
    expect(await rt({ status_code: "abcd" })).toEqual({ config: { status_code: "expected an integer" } });
    expect(await rt({ status_code: null })).toEqual({ config: { status_code: "required field missing" } });
    expect(await rt({ status_code: 99 })).toEqual({
      config: { status_code: "value should be between 100 and 599" },
    });
    expect(await rt({ status_code: 600 })).toEqual({
      config: { status_code: "value should be between 100 and 599" },
    });
    const messageWith = { config: "message cannot be used with content_type or body" };
    expect(await rt({ message: "error", body: "test" })).toEqual(messageWith);
    expect(await rt({ message: "error", content_type: "text/html", body: "test" })).toEqual(messageWith);
    expect(await rt({ message: "error", content_type: "text/html" })).toEqual(messageWith);
    expect(await rt({ content_type: "text/html" })).toEqual({ config: "content_type requires a body" });
    expect(await rt({ echo: true, content_type: "text/html", body: "<h1>x</h1>" })).toEqual({
      config: "echo cannot be used with content_type and body",
    });
    expect(await rt({ trigger: "bad header" })).toEqual({
      config: { trigger: "bad header name, allowed characters are A-Z, a-z, 0-9, '_', and '-'" },
    });
    expect(await rt({ echo: "yes", unknown: 1 })).toEqual({
      config: { echo: "expected a boolean", unknown: "unknown field" },
    });
  });

  test("defaults as Kong renders them", async () => {
    const created = await admin(w.tg, "POST", "/plugins", {
      name: "request-termination",
      service: { id: serviceId },
      enabled: false,
    });
    expect(created.config).toEqual({
      status_code: 503,
      message: null,
      content_type: null,
      body: null,
      echo: false,
      trigger: null,
    });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });

  test("global → service → route → consumer precedence", async () => {
    const scoped = (status: number) => ({ status_code: status });
    const STATUS = { 461: "global", 462: "service", 463: "route", 464: "consumer" } as const;
    await expectPrecedence(
      w,
      "request-termination",
      { global: scoped(461), service: scoped(462), route: scoped(463), consumer: scoped(464) },
      async (path, headers) => {
        const { status } = await w.call(path, { headers });
        return status === 200 ? "none" : STATUS[status as keyof typeof STATUS];
      },
    );
  });
});
