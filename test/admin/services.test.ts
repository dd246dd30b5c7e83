// Services CRUD through the Kong-compatible REST admin: defaults, lookups by id and name, PATCH, DELETE,
// PUT upserts, the `url` shorthand and the odd names a client may send.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { TestCa } from "../support/certs.ts";
import {
  call,
  createService,
  NOT_FOUND,
  nameError,
  nowSeconds,
  schemaViolation,
  service,
  uniqueViolation,
} from "./helpers.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

describe("POST /services and GET", () => {
  test("a minimal service gets every default and renders every field", async () => {
    const before = nowSeconds();
    const created = await call(tg, "/services", { method: "POST", body: { host: "example.com" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(service(created.body, { host: "example.com" }));
    expect(created.body.created_at).toBeGreaterThanOrEqual(before);
    expect(created.body.created_at).toBe(created.body.updated_at);
    expect(Object.keys(created.body)).toEqual([
      "id",
      "created_at",
      "updated_at",
      "name",
      "retries",
      "protocol",
      "host",
      "port",
      "path",
      "connect_timeout",
      "write_timeout",
      "read_timeout",
      "tags",
      "client_certificate",
      "tls_verify",
      "tls_verify_depth",
      "ca_certificates",
      "enabled",
    ]);
    const got = await call(tg, `/services/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
  });

  test("every field can be set", async () => {
    // The certificate and CA certificate a service names must exist.
    const ca = await TestCa.create();
    const leaf = await ca.leaf(["client.test"], { client: true });
    const certificate = await call(tg, "/certificates", {
      method: "POST",
      body: { cert: leaf.cert, key: leaf.key },
    });
    const caCertificate = await call(tg, "/ca_certificates", { method: "POST", body: { cert: ca.ca.cert } });
    const fields = {
      name: "full-service",
      retries: 0,
      protocol: "https",
      host: "api.example.com",
      port: 8443,
      path: "/v1/base",
      connect_timeout: 1,
      write_timeout: 2147483646,
      read_timeout: 1500,
      tags: ["a", "b", "a"],
      client_certificate: { id: certificate.body.id as string },
      tls_verify: true,
      tls_verify_depth: 64,
      ca_certificates: [caCertificate.body.id as string],
      enabled: false,
    };
    const created = await call(tg, "/services", { method: "POST", body: fields });
    expect(created.status).toBe(201);
    // tags is a set: the duplicate collapses
    expect(created.body).toEqual(service(created.body, { ...fields, tags: ["a", "b"] }));
    expect((await call(tg, "/services/full-service")).body).toEqual(created.body);
  });

  test("a caller-supplied id is kept (lower-cased), and GET accepts it in any case", async () => {
    const id = "ABCDEF01-2345-4678-9ABC-DEF012345678";
    const created = await call(tg, "/services", { method: "POST", body: { id, host: "a.example" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(service(created.body, { id: id.toLowerCase(), host: "a.example" }));
    expect((await call(tg, `/services/${id}`)).body).toEqual(created.body);
    expect((await call(tg, `/services/${id.toLowerCase()}`)).body).toEqual(created.body);
  });

  test("POST with an id that exists is a primary key violation (code 3)", async () => {
    const id = "abcdef01-2345-4678-9abc-def012345679";
    await createService(tg, { id, host: "a.example" });
    const again = await call(tg, "/services", { method: "POST", body: { id, host: "b.example" } });
    expect(again).toMatchObject({ status: 400 });
    expect(again.body).toEqual({
      code: 3,
      name: "primary key violation",
      message: `primary key violation on key '{id="${id}"}'`,
      fields: { id },
    });
    expect((await call(tg, `/services/${id}`)).body.host).toBe("a.example");
  });

  test("a duplicate name is 409 code 5 and creates nothing", async () => {
    const first = await createService(tg, { name: "dup", host: "a.example" });
    const again = await call(tg, "/services", { method: "POST", body: { name: "dup", host: "b.example" } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(uniqueViolation("dup"));
    expect((await call(tg, "/services/dup")).body).toEqual(first);
  });

  test("timestamps and id in a POST body do not override the generated ones", async () => {
    const created = await call(tg, "/services", {
      method: "POST",
      body: { host: "stamps.example", created_at: 1, updated_at: 2 },
    });
    expect(created.status).toBe(201);
    expect(created.body.created_at).toBeGreaterThan(1000);
    expect(created.body).toEqual(service(created.body, { host: "stamps.example" }));
  });

  test("GET of a missing service is a bare 404, by name and by id", async () => {
    for (const key of ["missing", "00000000-0000-4000-8000-000000000000"]) {
      const got = await call(tg, `/services/${key}`);
      expect(got.status).toBe(404);
      expect(got.body).toEqual(NOT_FOUND);
    }
  });
});

describe("PATCH /services/{name or id}", () => {
  test("changes only the given fields, keeps id and created_at", async () => {
    const created = await createService(tg, { name: "patch-me", host: "a.example", retries: 3, tags: ["x"] });
    const patched = await call(tg, "/services/patch-me", {
      method: "PATCH",
      body: { port: 8080, path: "/p" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({
      ...created,
      port: 8080,
      path: "/p",
      updated_at: patched.body.updated_at,
    });
    expect(patched.body.updated_at).toBeGreaterThanOrEqual(created.updated_at);
    expect((await call(tg, `/services/${created.id}`)).body).toEqual(patched.body);
  });

  test("null clears an optional field, [] stores an empty set, by id", async () => {
    const created = await createService(tg, { host: "a.example", path: "/x", tags: ["t"] });
    const patched = await call(tg, `/services/${created.id}`, {
      method: "PATCH",
      body: { path: null, tags: [] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...created, path: null, tags: [], updated_at: patched.body.updated_at });
  });

  test("renames, and the new name addresses it", async () => {
    const created = await createService(tg, { name: "old-name", host: "a.example" });
    const patched = await call(tg, "/services/old-name", { method: "PATCH", body: { name: "new-name" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...created, name: "new-name", updated_at: patched.body.updated_at });
    expect((await call(tg, "/services/old-name")).status).toBe(404);
    expect((await call(tg, "/services/new-name")).body).toEqual(patched.body);
  });

  test("renaming onto a taken name is 409 and changes nothing", async () => {
    await createService(tg, { name: "taken", host: "a.example" });
    const mine = await createService(tg, { name: "mine", host: "b.example" });
    const patched = await call(tg, "/services/mine", { method: "PATCH", body: { name: "taken", port: 1 } });
    expect(patched.status).toBe(409);
    expect(patched.body).toEqual(uniqueViolation("taken"));
    expect((await call(tg, "/services/mine")).body).toEqual(mine);
  });

  test("an empty PATCH body changes nothing but updated_at", async () => {
    const created = await createService(tg, { host: "a.example" });
    const patched = await call(tg, `/services/${created.id}`, { method: "PATCH" });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...created, updated_at: patched.body.updated_at });
  });

  test("PATCH of a missing service is 404 with Kong's code 6 object", async () => {
    const byName = await call(tg, "/services/nope", { method: "PATCH", body: { port: 1 } });
    expect(byName.status).toBe(404);
    expect(byName.body).toEqual({
      code: 6,
      name: "not found",
      message: `could not find the entity with '{name="nope"}'`,
      fields: { name: "nope" },
    });
    const id = "00000000-0000-4000-8000-000000000001";
    const byId = await call(tg, `/services/${id}`, { method: "PATCH", body: { port: 1 } });
    expect(byId.status).toBe(404);
    expect(byId.body).toEqual({
      code: 6,
      name: "not found",
      message: `could not find the entity with primary key '{id="${id}"}'`,
      fields: { id },
    });
    expect((await call(tg, `/services/${id}`)).status).toBe(404);
  });
});

describe("DELETE /services/{name or id}", () => {
  test("deletes by name and by id with 204 and an empty body; deleting again is still 204", async () => {
    await createService(tg, { name: "bye", host: "a.example" });
    const other = await createService(tg, { host: "b.example" });
    for (const key of ["bye", other.id]) {
      const deleted = await call(tg, `/services/${key}`, { method: "DELETE" });
      expect(deleted).toMatchObject({ status: 204, text: "" });
      expect((await call(tg, `/services/${key}`)).status).toBe(404);
      const again = await call(tg, `/services/${key}`, { method: "DELETE" });
      expect(again).toMatchObject({ status: 204, text: "" });
    }
  });
});

describe("url shorthand", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["http://example.com", { protocol: "http", host: "example.com", port: 80, path: null }],
    ["https://example.com", { protocol: "https", host: "example.com", port: 443, path: null }],
    ["https://example.com:8443/a/b", { protocol: "https", host: "example.com", port: 8443, path: "/a/b" }],
    ["http://example.com:8080/", { protocol: "http", host: "example.com", port: 8080, path: "/" }],
    ["http://10.1.2.3:9000/x", { protocol: "http", host: "10.1.2.3", port: 9000, path: "/x" }],
    ["https://[::1]:8443/x", { protocol: "https", host: "::1", port: 8443, path: "/x" }],
  ];
  for (const [url, fields] of cases)
    test(`POST url ${url}`, async () => {
      const created = await call(tg, "/services", { method: "POST", body: { url } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual(service(created.body, fields));
      expect("url" in created.body).toBe(false);
    });

  test("url overrides protocol/host/port/path given beside it", async () => {
    const created = await call(tg, "/services", {
      method: "POST",
      body: {
        url: "https://u.example",
        protocol: "http",
        host: "h.example",
        port: 1,
        path: "/p",
        retries: 2,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(
      service(created.body, { protocol: "https", host: "u.example", port: 443, path: null, retries: 2 }),
    );
  });

  test("PATCH url sets protocol, host, port and clears a path the url lacks", async () => {
    const created = await createService(tg, { host: "a.example", path: "/keep-not", retries: 7 });
    const patched = await call(tg, `/services/${created.id}`, {
      method: "PATCH",
      body: { url: "https://b.example:4443" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({
      ...created,
      protocol: "https",
      host: "b.example",
      port: 4443,
      path: null,
      updated_at: patched.body.updated_at,
    });
  });

  test("PUT url replaces with the url's parts", async () => {
    const put = await call(tg, "/services/put-url", {
      method: "PUT",
      body: { url: "http://c.example:81/base" },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(
      service(put.body, { name: "put-url", host: "c.example", port: 81, path: "/base" }),
    );
  });

  test("invalid urls are schema violations naming the broken part", async () => {
    const cases: [unknown, Record<string, unknown>, string[]][] = [
      [
        "invalid url",
        { host: "required field missing", path: "should start with: /" },
        ["host: required field missing", "path: should start with: /"],
      ],
      // Kong validates the shorthand first and reports only it.
      ["", { url: "length must be at least 1" }, ["url: length must be at least 1"]],
      [5, { url: "expected a string" }, ["url: expected a string"]],
      [
        "http://b.example:99999",
        { port: "value should be between 0 and 65535" },
        ["port: value should be between 0 and 65535"],
      ],
      ["http://b.example:abc", { port: "expected an integer" }, ["port: expected an integer"]],
      ["http://b.example/a b", { path: pathCharsError("/a b") }, [`path: ${pathCharsError("/a b")}`]],
    ];
    for (const [url, fields, parts] of cases) {
      const res = await call(tg, "/services", { method: "POST", body: { url } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(schemaViolation(fields, parts));
    }
  });

  test("an invalid url on PATCH leaves the service unchanged", async () => {
    const created = await createService(tg, { host: "a.example" });
    const patched = await call(tg, `/services/${created.id}`, { method: "PATCH", body: { url: "" } });
    expect(patched.status).toBe(400);
    expect(patched.body).toEqual(
      schemaViolation({ url: "length must be at least 1" }, ["url: length must be at least 1"]),
    );
    expect((await call(tg, `/services/${created.id}`)).body).toEqual(created);
  });
});

function pathCharsError(path: string) {
  return `invalid path: '${path}' (characters outside of the reserved list of RFC 3986 found)`;
}

describe("PUT /services/{name or id} (upsert)", () => {
  test("creates by name with 200; the URL's name wins over the body's", async () => {
    const put = await call(tg, "/services/put-a", {
      method: "PUT",
      body: { name: "body-name", host: "a.example", retries: 3, path: "/x" },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(service(put.body, { name: "put-a", host: "a.example", retries: 3, path: "/x" }));
    expect((await call(tg, "/services/body-name")).status).toBe(404);
    expect((await call(tg, "/services/put-a")).body).toEqual(put.body);
  });

  test("replaces by name: same id, omitted fields back to defaults", async () => {
    const first = await call(tg, "/services/put-b", {
      method: "PUT",
      body: { host: "a.example", retries: 3, path: "/x", tags: ["t"], port: 81 },
    });
    const second = await call(tg, "/services/put-b", { method: "PUT", body: { host: "b.example" } });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(
      service(second.body, { id: first.body.id, name: "put-b", host: "b.example" }),
    );
    // Kong's upsert stamps created_at again
    expect(second.body.created_at).toBeGreaterThanOrEqual(first.body.created_at);
    expect((await call(tg, `/services/${first.body.id}`)).body).toEqual(second.body);
  });

  test("creates by id, and replacing by id without a name clears the name", async () => {
    const id = "11111111-2222-4333-8444-555555555555";
    const created = await call(tg, `/services/${id}`, {
      method: "PUT",
      body: { host: "c.example", name: "by-id" },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual(service(created.body, { id, name: "by-id", host: "c.example" }));
    const replaced = await call(tg, `/services/${id}`, { method: "PUT", body: { host: "d.example" } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual(service(replaced.body, { id, host: "d.example" }));
    expect((await call(tg, "/services/by-id")).status).toBe(404);
  });

  test("the id in a PUT body cannot move the entity", async () => {
    const put = await call(tg, "/services/put-c", {
      method: "PUT",
      body: { id: "22222222-2222-4333-8444-555555555555", host: "a.example" },
    });
    expect(put.status).toBe(200);
    expect(put.body.id).not.toBe("22222222-2222-4333-8444-555555555555");
    expect(put.body).toEqual(service(put.body, { name: "put-c", host: "a.example" }));
  });

  test("PUT by id with a name another service owns is 409 and changes nothing", async () => {
    const owner = await createService(tg, { name: "owned", host: "a.example" });
    const id = "33333333-2222-4333-8444-555555555555";
    const mine = (await call(tg, `/services/${id}`, { method: "PUT", body: { host: "b.example" } })).body;
    const put = await call(tg, `/services/${id}`, {
      method: "PUT",
      body: { host: "c.example", name: "owned" },
    });
    expect(put.status).toBe(409);
    expect(put.body).toEqual(uniqueViolation("owned"));
    expect((await call(tg, `/services/${id}`)).body).toEqual(mine);
    expect((await call(tg, "/services/owned")).body).toEqual(owner);
  });

  test("PUT without host is 400 and creates nothing", async () => {
    const put = await call(tg, "/services/put-nohost", { method: "PUT", body: { port: 81 } });
    expect(put.status).toBe(400);
    expect(put.body).toEqual(
      schemaViolation({ host: "required field missing" }, ["host: required field missing"]),
    );
    expect((await call(tg, "/services/put-nohost")).status).toBe(404);
  });

  test("a failed PUT replace leaves the row exactly as it was", async () => {
    const before = await createService(tg, { name: "put-keep", host: "a.example", retries: 9, tags: ["k"] });
    const put = await call(tg, "/services/put-keep", {
      method: "PUT",
      body: { host: "b.example", port: -1 },
    });
    expect(put.status).toBe(400);
    expect(put.body).toEqual(
      schemaViolation({ port: "value should be between 0 and 65535" }, [
        "port: value should be between 0 and 65535",
      ]),
    );
    expect((await call(tg, "/services/put-keep")).body).toEqual(before);
  });
});

describe("odd names", () => {
  const accepted = ["円", "サービス.v2", "😀", "Robert~.-_drop", "...", "--", "~", "a", "Ünïcödé-名前"];
  for (const name of accepted)
    test(`accepts ${JSON.stringify(name)} and returns it byte-exact`, async () => {
      const created = await call(tg, "/services", { method: "POST", body: { name, host: "a.example" } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual(service(created.body, { name, host: "a.example" }));
      const path = `/services/${encodeURIComponent(name)}`;
      const got = await call(tg, path);
      expect(got.status).toBe(200);
      expect(got.text).toContain(`"name":${JSON.stringify(name)}`);
      expect(new TextEncoder().encode(got.body.name)).toEqual(new TextEncoder().encode(name));
      const patched = await call(tg, path, { method: "PATCH", body: { port: 81 } });
      expect(patched.body).toEqual({ ...created.body, port: 81, updated_at: patched.body.updated_at });
      expect((await call(tg, path, { method: "DELETE" })).status).toBe(204);
      expect((await call(tg, path)).status).toBe(404);
    });

  const rejected = [
    "x'; DROP TABLE services;--",
    "1 OR 1=1",
    'a"b',
    "a/b",
    "a%20b",
    "a\u0000b",
    "a\nb",
    "a\tb",
    "a\u007fb",
    "a\u0085b",
    "a\u009fb",
    "\ud800",
    "a b",
    "<script>",
  ];
  for (const name of rejected)
    test(`rejects ${JSON.stringify(name)} with Kong's name message`, async () => {
      const created = await call(tg, "/services", { method: "POST", body: { name, host: "a.example" } });
      expect(created.status).toBe(400);
      expect(created.body).toEqual(schemaViolation({ name: nameError(name) }, [`name: ${nameError(name)}`]));
    });

  test("an empty name is 'length must be at least 1'", async () => {
    const created = await call(tg, "/services", { method: "POST", body: { name: "", host: "a.example" } });
    expect(created.status).toBe(400);
    expect(created.body).toEqual(
      schemaViolation({ name: "length must be at least 1" }, ["name: length must be at least 1"]),
    );
  });

  test("nothing was written by the rejected names", async () => {
    const all = await call(tg, "/services?size=1000");
    for (const s of all.body.data) expect(rejected).not.toContain(s.name);
  });
});
