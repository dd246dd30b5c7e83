// Black-box: request-transformer through the real gateway and a real upstream — headers, query string and
// bodies (JSON, form, multipart) rewritten in Kong's order, http_method (a form becomes the query of a GET),
// replace.uri and templates from the client's headers, query and URI captures, prototype names finding
// nothing, Kong's validation messages (unsupported templates refused when written), scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  admin,
  type Echo,
  expectPrecedence,
  type PluginWorld,
  refusedConfig,
  startWorld,
} from "./helpers.ts";

let w: PluginWorld;

const ROUTES: [string, Record<string, unknown>][] = [
  [
    "/headers",
    {
      remove: { headers: ["x-remove"] },
      rename: { headers: ["x-old:x-new"] },
      replace: { headers: ["x-rep:replaced", "x-absent:never", "host:upstream.example"] },
      add: { headers: ["x-added:yes", "x-rep:never", "host:no"] },
      append: { headers: ["x-app:second", "x-app-new:first"] },
    },
  ],
  [
    "/query",
    {
      remove: { querystring: ["q-rm"] },
      rename: { querystring: ["q-old:q-new"] },
      replace: { querystring: ["q-rep:R", "q-absent:never"] },
      add: { querystring: ["q-add:A", "q-keep:never"] },
      append: { querystring: ["q-app:B"] },
    },
  ],
  [
    "/body",
    {
      remove: { body: ["rm"] },
      rename: { body: ["old:new"] },
      replace: { body: ["rep:R", "absent:never"] },
      add: { body: ["added:A", "keep:never"] },
      append: { body: ["app:B"] },
    },
  ],
  ["/to-post", { http_method: "POST", add: { body: ["p1:v1"] } }],
  ["/to-get", { http_method: "GET" }],
  ["/bad-uri", { replace: { uri: "$(query_params.p)" } }],
  [
    "/proto",
    {
      add: {
        headers: [
          "x-p1:$(headers.__proto__)",
          "x-p2:[$(query_params.constructor)]",
          "x-p3:$(uri_captures.__proto__ or 'none')",
        ],
        querystring: ["q:$(query_params.toString)"],
      },
    },
  ],
];

let templateRoute: string;

beforeAll(async () => {
  w = await startWorld();
  const { id, routes } = await w.service(
    "rtx",
    ROUTES.map(([p]) => p),
  );
  for (let i = 0; i < ROUTES.length; i++)
    await admin(w.tg, "POST", `/routes/${routes[i]}/plugins`, {
      name: "request-transformer",
      config: ROUTES[i]![1],
    });
  templateRoute = (
    await admin(w.tg, "POST", `/services/${id}/routes`, { paths: ["~/tpl/(?<user1>\\w+)/(?<user2>\\w+)$"] })
  ).id;
  await admin(w.tg, "POST", `/routes/${templateRoute}/plugins`, {
    name: "request-transformer",
    config: {
      remove: { headers: ["x-remove-header"], querystring: ["q1"] },
      replace: { uri: "/requests/user2/$(uri_captures.user2)/user1/$(uri_captures['user1'])" },
      add: {
        headers: ["x-test-header:$(query_params.q1)", "x-from-removed:$(headers['x-remove-header'])"],
        querystring: [
          "uri_param1:$(uri_captures.user1)",
          "uri_param2[some_index][1]:$(uri_captures[2])",
          "fallback:$(query_params.none or uri_captures.nope or 'default')",
        ],
      },
    },
  });
  // A service with a path: replace.uri sets the whole upstream path, the service's path is not prepended.
  const based = await admin(w.tg, "POST", "/services", { name: "rtx-based", url: `${w.upstream.url}/base` });
  const basedRoute = await admin(w.tg, "POST", `/services/${based.id}/routes`, { paths: ["/based"] });
  await admin(w.tg, "POST", `/routes/${basedRoute.id}/plugins`, {
    name: "request-transformer",
    config: { replace: { uri: "/elsewhere/tést" } },
  });
  await w.synced();
});

afterAll(() => w.stop());

const query = (echo: Echo) => echo.target.slice(echo.target.indexOf("?") + 1);

describe("request-transformer: headers", () => {
  test("remove → rename → replace → add → append, Host replaced for the upstream", async () => {
    const echo = await w.pass("/headers", {
      headers: { "x-remove": "1", "x-old": "renamed value", "x-rep": "original", "x-app": "first" },
    });
    const h = echo.headers;
    expect({
      remove: h["x-remove"],
      old: h["x-old"],
      new: h["x-new"],
      rep: h["x-rep"],
      absent: h["x-absent"],
      added: h["x-added"],
      app: h["x-app"],
      appNew: h["x-app-new"],
      host: h.host,
    }).toEqual({
      remove: undefined,
      old: undefined,
      new: "renamed value",
      rep: "replaced",
      absent: undefined,
      added: "yes",
      app: "first, second",
      appNew: "first",
      host: "upstream.example",
    });
  });

  test("add does not override a header the client sent", async () => {
    const echo = await w.pass("/headers", { headers: { "x-added": "client" } });
    expect(echo.headers["x-added"]).toBe("client");
  });
});

describe("request-transformer: query string", () => {
  test("Kong's order, re-encoded with sorted names", async () => {
    const echo = await w.pass("/query?q-rm=1&q-old=o&q-rep=r&q-keep=k&q-app=a&other=x%20y");
    expect(query(echo)).toBe("other=x%20y&q-add=A&q-app=a&q-app=B&q-keep=k&q-new=o&q-rep=R");
  });

  test("a request without a query gets the added ones", async () => {
    const echo = await w.pass("/query");
    expect(query(echo)).toBe("q-add=A&q-app=B&q-keep=never");
  });
});

describe("request-transformer: bodies", () => {
  test("JSON: Kong's order, a correct Content-Length", async () => {
    const echo = await w.pass("/body", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rm: 1, old: "o", rep: "r", keep: "k", app: "a", emptyarray: [] }),
    });
    expect(JSON.parse(echo.body)).toEqual({
      new: "o",
      rep: "R",
      keep: "k",
      app: ["a", "B"],
      emptyarray: [],
      added: "A",
    });
    expect(echo.headers["content-length"]).toBe(String(Buffer.byteLength(echo.body)));
  });

  test("JSON: a malformed body goes as it came; an empty one gets the added fields", async () => {
    const broken = await w.pass("/body", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{broken",
    });
    expect(broken.body).toBe("{broken");
    const empty = await w.pass("/body", { method: "POST", headers: { "content-type": "application/json" } });
    expect(JSON.parse(empty.body)).toEqual({ added: "A", keep: "never", app: ["B"] });
  });

  test("form-urlencoded", async () => {
    const echo = await w.pass("/body", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "rm=1&old=o&rep=r&keep=k&app=a&x=a+b",
    });
    // Renamed fields move to the end; Kong's order is its table's (unspecified), here the body's own.
    expect(echo.body).toBe("rep=R&keep=k&app=a&app=B&x=a%20b&new=o&added=A");
  });

  test("multipart: fields rewritten, a file kept, a new boundary", async () => {
    const form = new FormData();
    form.append("rm", "1");
    form.append("old", "o");
    form.append("rep", "r");
    form.append("upload", new Blob(["file bytes"], { type: "application/octet-stream" }), "f.bin");
    const echo = await w.pass("/body", { method: "POST", body: form });
    const received = await new Response(echo.body, {
      headers: { "content-type": echo.headers["content-type"]! },
    }).formData();
    expect([...received.keys()].sort()).toEqual(["added", "keep", "new", "rep", "upload"]);
    expect({ new: received.get("new"), rep: received.get("rep"), added: received.get("added") }).toEqual({
      new: "o",
      rep: "R",
      added: "A",
    });
    const file = received.get("upload") as File;
    expect({ name: file.name, text: await file.text() }).toEqual({ name: "f.bin", text: "file bytes" });
    expect(echo.headers["content-length"]).toBe(String(Buffer.byteLength(echo.body)));
  });

  test("other media types go untouched", async () => {
    const echo = await w.pass("/body", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "rm=1",
    });
    expect(echo.body).toBe("rm=1");
  });
});

describe("request-transformer: method and uri", () => {
  test("GET → POST with a JSON body added", async () => {
    const echo = await w.pass("/to-post", { headers: { "content-type": "application/json" } });
    expect({ method: echo.method, body: JSON.parse(echo.body) }).toEqual({
      method: "POST",
      body: { p1: "v1" },
    });
  });

  test("POST → GET: the form body becomes query arguments, no body is sent", async () => {
    const echo = await w.pass("/to-get?a=1", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=2&b=x+y",
    });
    expect({
      method: echo.method,
      query: query(echo),
      body: echo.body,
      length: echo.headers["content-length"],
    }).toEqual({
      method: "GET",
      query: "a=1&a=2&b=x%20y",
      body: "",
      length: undefined,
    });
  });

  test("templates: uri, query and headers from captures, query and a removed header", async () => {
    const echo = await w.pass("/tpl/foo/bar?q1=20", { headers: { "x-remove-header": "its a test" } });
    expect(echo.target).toBe(
      "/requests/user2/bar/user1/foo?fallback=default&uri_param1=foo&uri_param2%5Bsome_index%5D%5B1%5D=bar",
    );
    expect({
      test: echo.headers["x-test-header"],
      from: echo.headers["x-from-removed"],
      removed: echo.headers["x-remove-header"],
    }).toEqual({ test: "20", from: "its a test", removed: undefined });
  });

  test("replace.uri is the whole upstream path (the service's path not prepended), non-ASCII escaped", async () => {
    const echo = await w.pass("/based/x?k=v");
    expect(echo.target).toBe("/elsewhere/t%C3%A9st?k=v");
  });

  test("a rendered uri that is not a path: 500, the upstream not called", async () => {
    const before = w.upstream.received.length;
    await w.refused("/bad-uri?p=relative", undefined, 500, "An unexpected error occurred");
    expect(w.upstream.received.length).toBe(before);
    expect((await w.pass("/bad-uri?p=/fine")).target).toBe("/fine?p=/fine");
  });

  test("prototype names find nothing", async () => {
    const echo = await w.pass("/proto?x=1");
    expect({
      p1: echo.headers["x-p1"],
      p2: echo.headers["x-p2"],
      p3: echo.headers["x-p3"],
      q: query(echo),
    }).toEqual({
      p1: "",
      p2: "[]",
      p3: "none",
      q: "q=&x=1",
    });
  });
});

describe("request-transformer: configuration", () => {
  test("Kong's validation messages", async () => {
    const rt = (config: unknown) => refusedConfig(w, { name: "request-transformer", config });
    expect(await rt({ http_method: "HELLO!" })).toEqual({ config: { http_method: "invalid value: HELLO!" } });
    expect(await rt({ add: { querystring: ["novalue"], body: ["a:1", "b:"] } })).toEqual({
      config: { add: { querystring: ["key 'novalue' has no value"], body: [null, "key 'b' has no value"] } },
    });
    expect(await rt({ add: { headers: ["no-colon"] }, remove: { headers: ["bad header"] } })).toEqual({
      config: {
        add: { headers: ["invalid value: no-colon"] },
        remove: { headers: ["'bad header' is not a valid header"] },
      },
    });
    expect(await rt({ rename: { headers: ["x-ok:bad name"] } })).toEqual({
      config: { rename: { headers: ["'bad name' is not a valid header"] } },
    });
    const unsupported = (value: string, error: string) =>
      `value '${value}' is not in supported format, error:${error}`;
    const only = "only headers, query_params and uri_captures lookups, quoted strings and 'or' are allowed";
    expect(
      await rt({
        replace: { uri: "/a/$(ERROR())", querystring: ["q1:$(constructor)"] },
        add: { headers: ["x:$(headers.x"] },
      }),
    ).toEqual({
      config: {
        replace: {
          uri: unsupported("/a/$(ERROR())", `unsupported expression 'ERROR()': ${only}`),
          querystring: [unsupported("$(constructor)", `unsupported expression 'constructor': ${only}`)],
        },
        add: { headers: [unsupported("$(headers.x", "unclosed '$(' at 1")] },
      },
    });
    expect(await rt({ add: "x", remove: { body: [1] } })).toEqual({
      config: { add: "expected a record", remove: { body: ["expected a string"] } },
    });
  });

  test("defaults as Kong renders them", async () => {
    const created = await admin(w.tg, "POST", "/plugins", { name: "request-transformer", enabled: false });
    const lists = { body: [], headers: [], querystring: [] };
    expect(created.config).toEqual({
      http_method: null,
      remove: lists,
      rename: lists,
      replace: { ...lists, uri: null },
      add: lists,
      append: lists,
    });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });

  test("global → service → route → consumer precedence", async () => {
    const scoped = (tag: string) => ({ add: { headers: [`x-scope:${tag}`] } });
    await expectPrecedence(
      w,
      "request-transformer",
      {
        global: scoped("global"),
        service: scoped("service"),
        route: scoped("route"),
        consumer: scoped("consumer"),
      },
      async (path, headers) => {
        const echo = await w.pass(path, { headers });
        return (echo.headers["x-scope"] ?? "none") as "none";
      },
    );
  });
});
