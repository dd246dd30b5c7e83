// Kong's /config endpoints with a database (Portico serves them in both modes) and /config/sync: body forms,
// check_hash, flatten_errors, the 201 body, code 14 errors; the proxy serves the new configuration when the
// answer comes, and a refused apply leaves both the database and the proxy as they were.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, type Reply } from "../admin/helpers.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { TestCa } from "../support/certs.ts";

let tg: TestGateway;
let upstream: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => new Response(`upstream saw ${new URL(request.url).pathname}`),
  });
  tg = await startTestGateway();
});
afterAll(async () => {
  await tg.stop();
  upstream.stop(true);
});

const config = (path: string, name = "svc") => `_format_version: "3.0"
services:
  - name: ${name}
    url: http://127.0.0.1:${upstream.port}/up
    routes:
      - name: ${name}-route
        paths: [${path}]
`;

async function proxied(path: string): Promise<string> {
  const res = await tg.proxy(path);
  return `${res.status} ${await res.text()}`;
}

describe("POST /config", () => {
  test("a YAML string in JSON: 201 with the loaded entities; the proxy serves it when the answer comes", async () => {
    const res = await call(tg, "/config", { method: "POST", body: { config: config("/one") } });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(["services", "routes"]);
    expect(res.body.services.map((s: { name: string }) => s.name)).toEqual(["svc"]);
    expect(res.body.routes[0]).toMatchObject({
      name: "svc-route",
      paths: ["/one"],
      service: { id: res.body.services[0].id },
    });
    expect(await proxied("/one/x")).toBe("200 upstream saw /up/x");
  });

  test("it replaces the whole configuration (entities not in the body are deleted), whatever the body form", async () => {
    const forms: [string, RequestInit][] = [
      ["raw YAML", { body: config("/two", "b"), headers: { "content-type": "text/yaml" } }],
      ["form field", { body: new URLSearchParams({ config: config("/three", "c") }) }],
      [
        "JSON document",
        {
          body: JSON.stringify(Bun.YAML.parse(config("/four", "d"))),
          headers: { "content-type": "application/json" },
        },
      ],
    ];
    let path = "";
    for (const [, init] of forms) {
      const res = await tg.admin("/config", { method: "POST", ...init } as never);
      expect(res.status).toBe(201);
      const body = (await res.json()) as { routes: { paths: string[] }[] };
      expect(body.routes.length).toBe(1);
      if (path) expect(await proxied(`${path}/x`)).toStartWith("404");
      path = body.routes[0]!.paths[0]!;
      expect(await proxied(`${path}/x`)).toBe("200 upstream saw /up/x");
    }
  });

  test("check_hash: the same configuration again is 304 and changes nothing", async () => {
    const body = { config: config("/hashed", "h") };
    expect((await call(tg, "/config?check_hash=1", { method: "POST", body })).status).toBe(201);
    const version = (await call(tg, "/status")).body.configuration_version;
    const again = await call(tg, "/config?check_hash=1", { method: "POST", body });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect((await call(tg, "/status")).body.configuration_version).toBe(version);
    // Without check_hash it applies (nothing to change); as in Kong, only "1" turns check_hash on.
    expect((await call(tg, "/config", { method: "POST", body })).status).toBe(201);
    expect((await call(tg, "/config?check_hash=true", { method: "POST", body })).status).toBe(201);
    expect((await call(tg, "/config", { method: "POST", body: { ...body, check_hash: 1 } })).status).toBe(
      304,
    );
  });

  test("a service may name a certificate and a CA certificate of the same file; a missing one is refused", async () => {
    const ca = await TestCa.create();
    const leaf = await ca.leaf(["client.test"], { client: true });
    const [certId, caId, missing] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const document = (clientCertificate: unknown, caCertificates: string[]) => ({
      _format_version: "3.0",
      certificates: [{ id: certId, cert: leaf.cert, key: leaf.key }],
      ca_certificates: [{ id: caId, cert: ca.ca.cert }],
      services: [
        {
          name: "mtls",
          url: "https://mtls.internal",
          client_certificate: clientCertificate,
          ca_certificates: caCertificates,
        },
      ],
    });
    // Kong's short form: the certificate's id alone.
    const res = await call(tg, "/config", { method: "POST", body: { config: document(certId, [caId]) } });
    expect(res.status).toBe(201);
    expect(res.body.services[0]).toMatchObject({
      client_certificate: { id: certId },
      ca_certificates: [caId],
    });
    const reference = (field: string, entity: string) =>
      `invalid reference '${field}: ${missing}' (no such entry in '${entity}')`;
    const refused = await call(tg, "/config", {
      method: "POST",
      body: { config: document({ id: missing }, [caId]) },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      code: 14,
      name: "invalid declarative configuration",
      message: `declarative config is invalid: services[0] (service mtls): client_certificate: ${reference("client_certificate", "certificates")}`,
      fields: { services: [{ client_certificate: reference("client_certificate", "certificates") }] },
    });
    const noCa = await call(tg, "/config", { method: "POST", body: { config: document(certId, [missing]) } });
    expect(noCa.body.fields).toEqual({
      services: [{ ca_certificates: reference("ca_certificates", "ca_certificates") }],
    });
    expect((await call(tg, "/services/mtls")).body.client_certificate).toEqual({ id: certId });
  });

  test("errors: empty body, unparsable text, invalid entities (nested fields, flattened on request)", async () => {
    expect(await call(tg, "/config", { method: "POST", body: {} })).toMatchObject({
      status: 400,
      body: { message: "expected a declarative configuration" },
    });
    const unparsable = await call(tg, "/config", { method: "POST", body: { config: "[nope" } });
    expect(unparsable.status).toBe(400);
    expect(unparsable.body.code).toBe(14);
    expect(unparsable.body.name).toBe("invalid declarative configuration");
    expect(unparsable.body.fields.error).toStartWith("failed parsing declarative configuration: ");
    const list = await call(tg, "/config", { method: "POST", body: { config: "- a\n- b\n" } });
    expect(list.body.fields).toEqual({
      error: "failed parsing declarative configuration: expected an object",
    });

    const bad = {
      config: `_format_version: "3.0"
services:
  - name: ok
    host: ok.internal
  - name: bad
    host: bad.internal
    port: 70000
    tags: [t1]
    routes:
      - name: r
        paths: [nope]
`,
    };
    const plain = await call(tg, "/config", { method: "POST", body: bad });
    expect(plain.status).toBe(400);
    expect(plain.body).toEqual({
      code: 14,
      name: "invalid declarative configuration",
      message:
        "declarative config is invalid: services[1] (service bad): port: value should be between 0 and 65535; services[1].routes[0] (route r): paths.0: should start with: /",
      fields: {
        services: [
          null,
          { port: "value should be between 0 and 65535", routes: [{ paths: ["should start with: /"] }] },
        ],
      },
    });
    const flat = await call(tg, "/config?flatten_errors=1", { method: "POST", body: bad });
    // Flattened, the entity errors leave `fields` (Kong drains them into flattened_errors).
    expect(flat.body.fields).toEqual({});
    expect(flat.body.flattened_errors).toEqual([
      {
        entity_type: "service",
        entity_name: "bad",
        entity_tags: ["t1"],
        entity: { name: "bad", host: "bad.internal", port: 70000, tags: ["t1"] },
        errors: [{ type: "field", field: "port", message: "value should be between 0 and 65535" }],
      },
      {
        entity_type: "route",
        entity_name: "r",
        entity: { name: "r", paths: ["nope"] },
        errors: [{ type: "field", field: "paths.0", message: "should start with: /" }],
      },
    ]);
    // flatten_errors in the body works too.
    const inBody = await call(tg, "/config", { method: "POST", body: { ...bad, flatten_errors: true } });
    expect(inBody.body.flattened_errors).toHaveLength(2);
    // The document's own errors stay in `fields`; a text that does not parse is never flattened.
    const topLevel = await call(tg, "/config?flatten_errors=yes", {
      method: "POST",
      body: { config: '_format_version: "3.0"\nabnormal_extra_field: 123\n' },
    });
    expect(topLevel.body).toMatchObject({ code: 14, fields: { abnormal_extra_field: "unknown field" } });
    expect(topLevel.body.flattened_errors).toEqual([]);
    // As Kong checks the whole file at once, the document's errors and its entities' come together
    // (Kong's "drains errors from the top-level fields object").
    const both = `_format_version: "3.0"\nabnormal_extra_field: 123\nservices:\n  - name: nope\n    host: h\n    protocol: nope\n`;
    const together = await call(tg, "/config", { method: "POST", body: { config: both } });
    expect(together.body.fields).toEqual({
      abnormal_extra_field: "unknown field",
      services: [{ protocol: expect.stringMatching(/^expected one of: /) }],
    });
    const drained = await call(tg, "/config?flatten_errors=1", { method: "POST", body: { config: both } });
    expect(drained.body.fields).toEqual({ abnormal_extra_field: "unknown field" });
    expect(drained.body.flattened_errors).toMatchObject([{ entity_type: "service", entity_name: "nope" }]);
    const garbage = await call(tg, "/config?flatten_errors=on", {
      method: "POST",
      body: { config: "[nope" },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.fields.error).toStartWith("failed parsing declarative configuration: ");
    expect(garbage.body.flattened_errors).toBeUndefined();
  });

  test("a second load while one runs is Kong's 429 with Retry-After; the first one completes", async () => {
    // 2,000 routes take long enough to load that requests sent meanwhile find it running.
    const lines = ['_format_version: "3.0"', "services:"];
    for (let s = 0; s < 200; s++) {
      lines.push(`  - name: busy-${s}`, `    url: http://127.0.0.1:${upstream.port}/up`, "    routes:");
      for (let r = 0; r < 10; r++)
        lines.push(`      - name: busy-${s}-${r}`, `        paths: [/busy/${s}/${r}]`);
    }
    // Answered at commit (respond-async), not once the proxy serves it, so the loads themselves overlap.
    const post = (text: string) =>
      call(tg, "/config", {
        method: "POST",
        headers: { prefer: "respond-async" },
        body: { config: text },
      });
    let refused: Reply | undefined;
    for (let attempt = 0; attempt < 5 && !refused; attempt++) {
      const big = post(`${lines.join("\n")}\n`);
      await Bun.sleep(30);
      const small = await post(config("/small", "small"));
      if (small.status === 429) refused = small;
      else expect(small.status).toBe(201);
      expect((await big).status).toBe(201);
    }
    expect(refused?.body).toEqual({ message: "Currently loading previous configuration" });
    expect(refused?.headers.get("retry-after")).toBe("1");
    expect(await proxied("/busy/199/9")).toBe("200 upstream saw /up");
  });

  test("a body over the limit is 413, whether its length is declared or it streams past it", async () => {
    const url = new URL(`${tg.adminUrl}/config`);
    // Declared: refused from the headers, before any of the 64 MiB + 1 byte is sent.
    const socket = await Bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      socket: { data: (s, chunk) => void (s.data as { text: string[] }).text.push(chunk.toString()) },
      data: { text: [] as string[] },
    });
    socket.write(
      `POST /config HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024 + 1}\r\n\r\n`,
    );
    const deadline = Date.now() + 10_000;
    const received = () => (socket.data as { text: string[] }).text.join("");
    while (!received().includes("}") && Date.now() < deadline) await Bun.sleep(20);
    socket.end();
    expect(received()).toStartWith("HTTP/1.1 413");
    expect(received()).toEndWith('{"message":"Request body too large"}');
    // Streamed without a length: cut off once it passes the limit.
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (sent > 70) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const streamed = await fetch(url, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toEqual({ message: "Request body too large" });
  });
});

describe("GET /config and POST /config/sync", () => {
  test("GET /config exports YAML (or JSON) as Kong's {config}", async () => {
    expect(
      (await call(tg, "/config", { method: "POST", body: { config: config("/exported", "e") } })).status,
    ).toBe(201);
    const yaml = await call(tg, "/config");
    expect(yaml.status).toBe(200);
    const document = Bun.YAML.parse(yaml.body.config) as {
      _format_version: string;
      services: { name: string; routes: unknown[] }[];
    };
    expect(document._format_version).toBe("3.0");
    expect(document.services.map((s) => [s.name, s.routes.length])).toEqual([["e", 1]]);
    const json = await call(tg, "/config?format=json");
    expect(JSON.parse(json.body.config)).toEqual(document);
  });

  test("sync: the plan as data (dry_run changes nothing), then applied", async () => {
    const body = { documents: [{ source: "a.yaml", config: Bun.YAML.parse(config("/synced", "s")) }] };
    const dry = await call(tg, "/config/sync?dry_run=true", { method: "POST", body });
    expect(dry.status).toBe(200);
    expect(dry.body.plan.summary).toEqual({ created: 2, updated: 0, deleted: 2 });
    expect(
      dry.body.plan.changes.map(
        (c: { action: string; entity: string; name: string }) => `${c.action} ${c.entity} ${c.name}`,
      ),
    ).toEqual(["create service s", "create route s-route", "delete route e-route", "delete service e"]);
    expect(await proxied("/exported/x")).toBe("200 upstream saw /up/x");
    const applied = await call(tg, "/config/sync", { method: "POST", body });
    expect(applied.body.plan.summary).toEqual({ created: 2, updated: 0, deleted: 2 });
    expect(await proxied("/synced/x")).toBe("200 upstream saw /up/x");
    expect(await proxied("/exported/x")).toStartWith("404");
  });

  test("a sync that fails in the store changes nothing: the database and the proxy keep the previous configuration", async () => {
    const before = (await call(tg, "/config")).body.config;
    const version = (await call(tg, "/status")).body.configuration_version;
    // Deletes "s" and its route first, creates a new route, then a service whose id is new but whose name clashes
    // with one the file also keeps: the store refuses the second, after the first steps ran.
    const clash = {
      config: {
        _format_version: "3.0",
        services: [
          { name: "x1", host: "x1.internal", routes: [{ name: "x-route", paths: ["/x"] }] },
          { id: "0b5c4ad6-5d7e-4a8e-9a57-000000000002", name: "x1", host: "x2.internal" },
        ],
      },
    };
    // Two entities with one name are refused before anything is written (a declaration error)...
    const declared = await call(tg, "/config/sync", { method: "POST", body: clash });
    expect(declared.status).toBe(400);
    expect(declared.body.code).toBe(14);
    // ...while a clash only the store sees (a name another team's service holds, outside the select tags)
    // fails inside the transaction, which rolls back.
    await call(tg, "/config/sync", {
      method: "POST",
      body: {
        config: {
          _format_version: "3.0",
          _info: { select_tags: ["other"] },
          services: [{ name: "taken", host: "t.internal" }],
        },
      },
    });
    const mid = (await call(tg, "/config")).body.config;
    const midVersion = (await call(tg, "/status")).body.configuration_version;
    expect(midVersion).toBeGreaterThan(version);
    const failing = await call(tg, "/config/sync", {
      method: "POST",
      body: {
        select_tags: ["mine"],
        config: {
          _format_version: "3.0",
          services: [
            { name: "mine-1", host: "m.internal", routes: [{ name: "mine-route", paths: ["/mine"] }] },
            { id: "0b5c4ad6-5d7e-4a8e-9a57-000000000003", name: "taken", host: "m2.internal" },
          ],
        },
      },
    });
    expect(failing.status).toBe(409);
    expect(failing.body).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: "UNIQUE violation detected on '{name=\"taken\"}'",
      fields: { name: "taken" },
    });
    expect((await call(tg, "/config")).body.config).toBe(mid);
    expect((await call(tg, "/status")).body.configuration_version).toBe(midVersion);
    expect(await proxied("/mine/x")).toStartWith("404");
    expect(await proxied("/synced/x")).toBe("200 upstream saw /up/x");
    expect(before).not.toBe(mid);
  });

  test("a rollback inside the transaction (two services trading names) keeps the database and the proxy as they were", async () => {
    const setup = {
      config: {
        _format_version: "3.0",
        services: [
          {
            name: "p",
            url: `http://127.0.0.1:${upstream.port}/p`,
            routes: [{ name: "p-route", paths: ["/p"] }],
          },
          {
            name: "q",
            url: `http://127.0.0.1:${upstream.port}/q`,
            routes: [{ name: "q-route", paths: ["/q"] }],
          },
        ],
      },
    };
    expect((await call(tg, "/config", { method: "POST", body: setup })).status).toBe(201);
    const before = (await call(tg, "/config")).body.config;
    const version = (await call(tg, "/status")).body.configuration_version;
    const ids = Bun.YAML.parse(before) as { services: { id: string; name: string }[] };
    const id = (name: string) => ids.services.find((s) => s.name === name)!.id;
    const trade = {
      config: {
        _format_version: "3.0",
        services: [
          {
            id: id("p"),
            name: "q",
            url: `http://127.0.0.1:${upstream.port}/p`,
            routes: [{ name: "p-route", paths: ["/p"] }],
          },
          { id: id("q"), name: "p", url: `http://127.0.0.1:${upstream.port}/q` },
        ],
      },
    };
    const res = await call(tg, "/config", { method: "POST", body: trade });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe(5);
    expect(res.body.message).toStartWith("UNIQUE violation detected by the database: ");
    expect((await call(tg, "/config")).body.config).toBe(before);
    expect((await call(tg, "/status")).body.configuration_version).toBe(version);
    expect(await proxied("/q/x")).toBe("200 upstream saw /q/x");
    expect(await proxied("/p/x")).toBe("200 upstream saw /p/x");
  });

  test("sync errors carry Kong's code 14 with flattened errors and each problem's place", async () => {
    const res = await call(tg, "/config/sync?dry_run=1", {
      method: "POST",
      body: {
        documents: [
          {
            source: "team.yaml",
            config: { _format_version: "3.0", routes: [{ name: "r", service: "ghost" }] },
          },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(14);
    expect(res.body.problems).toEqual([
      {
        source: "team.yaml",
        location: ["routes", 0],
        entity: {
          type: "route",
          name: "r",
          label: "r",
          tags: undefined,
          raw: { name: "r", service: "ghost" },
        },
        fields: { service: "invalid reference 'service: ghost' (no such entry in 'services')" },
      },
    ]);
    expect((await call(tg, "/config/sync", { method: "POST", body: { documents: [] } })).body).toEqual({
      message: "expected a declarative configuration",
    });
    expect((await call(tg, "/config/sync", { method: "POST", body: "nope" })).status).toBe(400);
  });
});
