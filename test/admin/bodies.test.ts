// Request bodies and the HTTP surface of the admin API: form-urlencoded and multipart bodies with Kong's
// type inference, content types (415), malformed JSON (400), oversized bodies (413), OPTIONS, HEAD, 405,
// 404 and the refusal of cross-origin writes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import {
  call,
  createService,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  route,
  schemaViolation,
  service,
} from "./helpers.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

const form = (text: string) => new URLSearchParams(text);
function multipart(pairs: [string, string][]) {
  const data = new FormData();
  for (const [k, v] of pairs) data.append(k, v);
  return data;
}

describe("application/x-www-form-urlencoded", () => {
  test("service fields are typed by the schema: integers, booleans, sets, '' as null", async () => {
    const res = await call(tg, "/services", {
      method: "POST",
      body: form("name=f1&host=h.example&port=8080&retries=0&enabled=false&path=&tags[]=a&tags[]=b"),
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(
      service(res.body, {
        name: "f1",
        host: "h.example",
        port: 8080,
        retries: 0,
        enabled: false,
        tags: ["a", "b"],
      }),
    );
  });

  test("repeated keys, a[1]/a[2] indexes and a single value all make arrays", async () => {
    const single = await call(tg, "/services", { method: "POST", body: form("host=h.example&tags=one") });
    expect(single.body.tags).toEqual(["one"]);
    const repeated = await call(tg, "/services", {
      method: "POST",
      body: form("host=h.example&tags=one&tags=two"),
    });
    expect(repeated.body.tags).toEqual(["one", "two"]);
    const indexed = await call(tg, "/services", {
      method: "POST",
      body: form("host=h.example&tags[2]=second&tags[1]=first"),
    });
    expect(indexed.body.tags).toEqual(["first", "second"]);
  });

  test("route fields: dotted foreign keys, header maps, arrays and booleans", async () => {
    const svc = await createService(tg, { name: "form-svc", host: "a.example" });
    const res = await call(tg, "/routes", {
      method: "POST",
      body: form(
        "name=form-route&paths=/a&paths=/b&methods=GET&hosts[1]=a.example&hosts[2]=b.example" +
          "&headers.x-foo=bar&headers.x-multi=1&headers.x-multi=2&strip_path=false&regex_priority=-3" +
          "&https_redirect_status_code=301&service.name=form-svc",
      ),
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(
      route(res.body, {
        name: "form-route",
        paths: ["/a", "/b"],
        methods: ["GET"],
        hosts: ["a.example", "b.example"],
        headers: { "x-foo": ["bar"], "x-multi": ["1", "2"] },
        strip_path: false,
        regex_priority: -3,
        https_redirect_status_code: 301,
        service: { id: svc.id },
      }),
    );
    const byId = await call(tg, "/routes", {
      method: "POST",
      body: form(`paths=/c&service.id=${svc.id}`),
    });
    expect(byId.body).toEqual(route(byId.body, { paths: ["/c"], service: { id: svc.id } }));
  });

  test("values that do not fit their field are schema violations", async () => {
    const res = await call(tg, "/services", {
      method: "POST",
      body: form("host=a.example&port=abc&retries=1.5&enabled=yes"),
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      schemaViolation(
        { retries: "expected an integer", port: "expected an integer", enabled: "expected a boolean" },
        ["enabled: expected a boolean", "port: expected an integer", "retries: expected an integer"],
      ),
    );
  });

  test("an empty value on a required field is 'required field missing'", async () => {
    const res = await call(tg, "/services", { method: "POST", body: form("host=") });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      schemaViolation({ host: "required field missing" }, ["host: required field missing"]),
    );
  });

  test("PATCH and PUT accept forms; '' clears an optional field", async () => {
    const created = await createService(tg, { name: "form-patch", host: "a.example", path: "/p" });
    const patched = await call(tg, "/services/form-patch", { method: "PATCH", body: form("port=81&path=") });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...created, port: 81, path: null, updated_at: patched.body.updated_at });
    const put = await call(tg, "/services/form-patch", {
      method: "PUT",
      body: form("url=https://b.example/x"),
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(
      service(put.body, {
        id: created.id,
        name: "form-patch",
        protocol: "https",
        host: "b.example",
        port: 443,
        path: "/x",
      }),
    );
  });
});

describe("field names that Object.prototype also has", () => {
  // `__proto__.x=1` once walked into Object.prototype: every later write of the process failed with
  // "0 schema violations ()". They are ordinary unknown fields, as in Kong.
  const unknown = (...names: string[]) =>
    schemaViolation(
      Object.fromEntries(names.map((n) => [n, "unknown field"])),
      [...names].sort().map((n) => `${n}: unknown field`),
    );

  test("form keys __proto__, constructor and toString are unknown fields and pollute nothing", async () => {
    for (const [body, names] of [
      ["__proto__.x=1&host=h.example", ["__proto__"]],
      ["__proto__[]=1&host=h.example", ["__proto__"]],
      ["constructor.prototype.x=1&host=h.example", ["constructor"]],
      ["toString=1&hasOwnProperty=2&host=h.example", ["toString", "hasOwnProperty"]],
    ] as const) {
      const res = await call(tg, "/services", { method: "POST", body: form(body) });
      expect({ body, status: res.status, reply: res.body }).toEqual({
        body,
        status: 400,
        reply: unknown(...names),
      });
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    const after = await call(tg, "/routes", { method: "POST", body: { paths: ["/proto"] } });
    expect(after.status).toBe(201);
  });

  test("JSON keys of the same names are unknown fields too, at the top and nested", async () => {
    const headers = { "content-type": "application/json" };
    const top = await call(tg, "/services", {
      headers,
      method: "POST",
      body: '{"host":"h.example","__proto__":{"x":1},"constructor":1,"valueOf":2}',
    });
    expect(top.status).toBe(400);
    expect(top.body).toEqual(unknown("__proto__", "constructor", "valueOf"));
    const nested = await call(tg, "/upstreams", {
      headers,
      method: "POST",
      body: '{"name":"proto-up","healthchecks":{"__proto__":{"polluted":1},"toString":1}}',
    });
    expect(nested.status).toBe(400);
    expect(nested.body).toEqual(
      schemaViolation(
        JSON.parse('{"healthchecks":{"__proto__":"unknown field","toString":"unknown field"}}'),
        ["healthchecks.__proto__: unknown field", "healthchecks.toString: unknown field"],
      ),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("a __proto__ key inside a map (route headers, plugin config) is refused, never silently dropped", async () => {
    const headers = { "content-type": "application/json" };
    const route = await call(tg, "/routes", {
      headers,
      method: "POST",
      body: '{"paths":["/proto-h"],"headers":{"__proto__":["x"],"x-a":["1"]}}',
    });
    expect(route.status).toBe(400);
    expect(route.body).toEqual(
      schemaViolation(JSON.parse('{"headers":{"__proto__":"unknown field"}}'), [
        "headers.__proto__: unknown field",
      ]),
    );
    const plugin = await call(tg, "/plugins", {
      headers,
      method: "POST",
      body: '{"name":"rate-limiting","config":{"minute":5,"__proto__":{"second":1}}}',
    });
    expect(plugin.status).toBe(400);
    expect(plugin.body).toEqual(
      schemaViolation(JSON.parse('{"config":{"__proto__":"unknown field"}}'), [
        "config.__proto__: unknown field",
      ]),
    );
    expect(
      (await call(tg, "/routes?size=1000")).body.data.some(
        (r: { paths: string[] | null }) => r.paths?.[0] === "/proto-h",
      ),
    ).toBe(false);
  });
});

describe("multipart/form-data", () => {
  test("decodes like a form", async () => {
    const res = await call(tg, "/services", {
      method: "POST",
      body: multipart([
        ["name", "mp"],
        ["host", "m.example"],
        ["port", "81"],
        ["tags[1]", "x"],
        ["tags[2]", "y"],
        ["enabled", "true"],
      ]),
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(
      service(res.body, { name: "mp", host: "m.example", port: 81, tags: ["x", "y"] }),
    );
  });

  test("routes with multipart", async () => {
    const res = await call(tg, "/services/mp/routes", {
      method: "POST",
      body: multipart([
        ["paths[]", "/mp"],
        ["preserve_host", "true"],
      ]),
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(
      route(res.body, {
        paths: ["/mp"],
        preserve_host: true,
        service: { id: (await call(tg, "/services/mp")).body.id },
      }),
    );
  });

  test("a broken multipart body is 400", async () => {
    const res = await call(tg, "/services", {
      method: "POST",
      body: "garbage",
      headers: { "content-type": "multipart/form-data; boundary=zzz" },
    });
    expect(res).toMatchObject({ status: 400, body: { message: "Cannot parse multipart body" } });
  });
});

describe("JSON bodies and content types", () => {
  test("malformed JSON is 400 'Cannot parse JSON body' for POST, PATCH and PUT", async () => {
    await createService(tg, { name: "json-target", host: "a.example" });
    for (const [method, path] of [
      ["POST", "/services"],
      ["PATCH", "/services/json-target"],
      ["PUT", "/services/json-target"],
      ["POST", "/routes"],
    ] as const) {
      for (const text of ["{x", '{"host":', "{'a':1}", "\u0000"]) {
        const res = await call(tg, path, {
          method,
          body: text,
          headers: { "content-type": "application/json" },
        });
        expect({ method, text, status: res.status, body: res.body }).toEqual({
          method,
          text,
          status: 400,
          body: { message: "Cannot parse JSON body" },
        });
      }
    }
  });

  test("JSON that is not an object is 400", async () => {
    for (const text of ["[]", "null", "42", '"s"', "true"]) {
      const res = await call(tg, "/services", {
        method: "POST",
        body: text,
        headers: { "content-type": "application/json" },
      });
      expect({ text, status: res.status, body: res.body }).toEqual({
        text,
        status: 400,
        body: { message: "JSON body must be an object" },
      });
    }
  });

  test("charset parameters and upper-case media types are accepted", async () => {
    const res = await call(tg, "/services", {
      method: "POST",
      body: JSON.stringify({ host: "cs.example" }),
      headers: { "content-type": "Application/JSON; charset=UTF-8" },
    });
    expect(res.status).toBe(201);
  });

  test("other content types are 415 on POST, PUT and PATCH", async () => {
    for (const [method, path] of [
      ["POST", "/services"],
      ["PUT", "/services/json-target"],
      ["PATCH", "/services/json-target"],
      ["POST", "/services/json-target/routes"],
    ] as const) {
      for (const type of ["text/plain", "application/xml", "application/jsonx"]) {
        const res = await call(tg, path, { method, body: "host=a", headers: { "content-type": type } });
        // Kong's answer is a bare 415: no body.
        expect({ method, type, status: res.status, text: res.text }).toEqual({
          method,
          type,
          status: 415,
          text: "",
        });
      }
    }
  });

  test("a body without a content type is 415; no body at all is an empty object", async () => {
    const res = await fetch(`${tg.adminUrl}/services`, { method: "POST", body: new Uint8Array([123, 125]) });
    expect(res.status).toBe(415);
    expect(await res.text()).toBe("");
    const empty = await call(tg, "/services", { method: "POST" });
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual(
      schemaViolation({ host: "required field missing" }, ["host: required field missing"]),
    );
  });

  test("GET ignores a body's content type", async () => {
    const res = await call(tg, "/services/json-target", { headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(200);
  });
});

describe("bodies over 1 MiB are 413", () => {
  const big = "x".repeat(1024 * 1024);
  const tooLarge = { message: "Request body too large" };

  test("JSON with a Content-Length", async () => {
    const res = await call(tg, "/services", { method: "POST", body: { host: "a.example", name: big } });
    expect(res).toMatchObject({ status: 413, body: tooLarge });
  });

  test("JSON streamed without a Content-Length", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ host: "a.example", name: big }));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 65536) controller.enqueue(bytes.slice(i, i + 65536));
        controller.close();
      },
    });
    const res = await fetch(`${tg.adminUrl}/services`, {
      method: "POST",
      body: stream,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(tooLarge);
  });

  test("a 64 MiB body streamed without a Content-Length is cut off with a JSON 413", async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (sent++ >= 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${tg.adminUrl}/services`, {
      method: "POST",
      body: stream,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(tooLarge);
  });

  test("form and multipart", async () => {
    expect(
      await call(tg, "/services", { method: "POST", body: new URLSearchParams({ name: big }) }),
    ).toMatchObject({
      status: 413,
      body: tooLarge,
    });
    expect(await call(tg, "/services", { method: "POST", body: multipart([["name", big]]) })).toMatchObject({
      status: 413,
      body: tooLarge,
    });
  });

  test("PATCH and PUT too", async () => {
    for (const method of ["PATCH", "PUT"] as const) {
      const res = await call(tg, "/services/json-target", { method, body: { name: big } });
      expect(res).toMatchObject({ status: 413, body: tooLarge });
    }
  });

  test("exactly 1 MiB is accepted (and then validated)", async () => {
    const body = JSON.stringify({ host: "a.example", tags: ["t"], name: "" });
    const padded = `${body.slice(0, -1)}${" ".repeat(1024 * 1024 - body.length)}}`;
    expect(padded.length).toBe(1024 * 1024);
    const res = await call(tg, "/services", {
      method: "POST",
      body: padded,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(2);
  });

  test("a huge body is refused in JSON without a hang and nothing is written", async () => {
    const before = await tg.gateway.store.configVersion();
    const res = await tg.admin("/services", {
      method: "POST",
      body: JSON.stringify({ host: "a.example", name: "x".repeat(9 * 1024 * 1024) }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(tooLarge);
    expect(await tg.gateway.store.configVersion()).toBe(before);
  });
});

describe("OPTIONS, HEAD, 405 and 404", () => {
  const COLLECTION = "GET, HEAD, OPTIONS, POST";
  const ENTITY = "DELETE, GET, HEAD, OPTIONS, PATCH, PUT";
  const cases: [string, string][] = [
    // PATCH /services is the seed library's refresh (service management is on by default)
    ["/services", "GET, HEAD, OPTIONS, PATCH, POST"],
    ["/routes", COLLECTION],
    ["/services/x", ENTITY],
    ["/routes/x", ENTITY],
    ["/services/x/routes", COLLECTION],
    ["/services/x/routes/y", ENTITY],
    ["/routes/x/service", ENTITY],
    ["/", "GET, HEAD, OPTIONS"],
    ["/status", "GET, HEAD, OPTIONS"],
    ["/service", "DELETE, OPTIONS, POST"],
  ];
  for (const [path, allow] of cases)
    test(`OPTIONS ${path}`, async () => {
      const res = await tg.admin(path, { method: "OPTIONS" });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
      expect(res.headers.get("allow")).toBe(allow);
      expect(res.headers.get("access-control-allow-methods")).toBe(allow);
      expect(res.headers.get("access-control-allow-headers")).toBe("Content-Type");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    });

  test("HEAD answers GET's status and headers without a body", async () => {
    await createService(tg, { name: "head-svc", host: "a.example" });
    for (const [path, status] of [
      ["/services/head-svc", 200],
      ["/services", 200],
      ["/services/nope", 404],
      ["/", 200],
    ] as const) {
      const res = await tg.admin(path, { method: "HEAD" });
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(await res.text()).toBe("");
    }
  });

  test("unrouted methods are 405 with Kong's body", async () => {
    for (const [method, path] of [
      ["DELETE", "/services"],
      ["PUT", "/services"],
      ["PATCH", "/routes"],
      ["POST", "/services/x"],
      ["POST", "/routes/x/service"],
      ["PROPFIND", "/services"],
      ["POST", "/"],
      ["DELETE", "/status"],
      ["GET", "/service"],
    ] as const) {
      const res = await call(tg, path, { method });
      expect({ method, path, status: res.status, body: res.body }).toEqual({
        method,
        path,
        status: 405,
        body: METHOD_NOT_ALLOWED,
      });
    }
  });

  test("unknown paths are 404 'Not found'", async () => {
    for (const path of [
      "/nope",
      "/services/a/b",
      "/services/a/routes/b/c",
      "/routes/a/services",
      "/servicesx",
    ]) {
      const res = await call(tg, path);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 404, body: NOT_FOUND });
    }
  });

  test("a trailing slash names the same resource", async () => {
    const res = await call(tg, "/services/head-svc/");
    expect(res.status).toBe(200);
    expect(res.body.name).toBe("head-svc");
  });

  test("every answer carries the admin latency header", async () => {
    const res = await tg.admin("/services");
    expect(res.headers.get("x-portico-admin-latency")).toMatch(/^\d+$/);
    await res.arrayBuffer();
  });
});

describe("cross-origin writes", () => {
  const REFUSED = { message: "Cross-origin admin requests are not allowed" };

  test("a write whose Origin is another site is 403 and writes nothing", async () => {
    const before = await tg.gateway.store.configVersion();
    for (const [method, path, body] of [
      ["POST", "/services", { name: "evil", host: "evil.example" }],
      ["PATCH", "/services/json-target", { port: 1 }],
      ["PUT", "/services/evil", { host: "evil.example" }],
      ["DELETE", "/services/json-target", undefined],
      ["POST", "/service", { domain: "http://evil.example", name_service: "evil" }],
      ["PATCH", "/services", undefined],
    ] as const) {
      for (const origin of ["http://evil.example", "null", `http://localhost:${new URL(tg.adminUrl).port}`]) {
        const res = await call(tg, path, { method, body, headers: { origin } });
        expect({ method, origin, status: res.status, body: res.body }).toEqual({
          method,
          origin,
          status: 403,
          body: REFUSED,
        });
      }
    }
    expect(await tg.gateway.store.configVersion()).toBe(before);
    expect((await call(tg, "/services/evil")).status).toBe(404);
    expect((await call(tg, "/services/json-target")).status).toBe(200);
  });

  test("the admin's own origin and no Origin at all may write", async () => {
    const same = await call(tg, "/services", {
      method: "POST",
      body: { name: "same-origin", host: "a.example" },
      headers: { origin: tg.adminUrl },
    });
    expect(same.status).toBe(201);
    const none = await call(tg, "/services", {
      method: "POST",
      body: { name: "no-origin", host: "a.example" },
    });
    expect(none.status).toBe(201);
  });

  test("reads from another origin are answered", async () => {
    const res = await call(tg, "/services/same-origin", { headers: { origin: "http://evil.example" } });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe("same-origin");
  });
});
