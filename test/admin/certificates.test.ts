// Black-box: Kong's certificates, snis and ca_certificates through the admin API — PEM validation, key
// matching, alternative certificates, SNI names and uniqueness, nesting, cascades, CA checks and digests,
// services' and upstreams' references to certificates and CA certificates, with Kong's error bodies; private keys never appear in an error. GraphQL serves a key only when asked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { type Pem, TestCa } from "../support/certs.ts";

let tg: TestGateway;
let ca: TestCa;
let a: Pem;
let b: Pem;
let ec: Pem;

// biome-ignore lint/suspicious/noExplicitAny: admin replies are arbitrary JSON
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await tg.admin(path, { method, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const violation = (message: string, fields: Record<string, unknown>) => ({
  code: 2,
  name: "schema violation",
  message,
  fields,
});

beforeAll(async () => {
  tg = await startTestGateway();
  ca = await TestCa.create();
  a = await ca.leaf(["a.test"]);
  b = await ca.leaf(["b.test"]);
  ec = await ca.leaf(["a.test"], { type: "ec" });
});

afterAll(async () => {
  await tg.stop();
});

describe("certificates", () => {
  test("a matching pair is created and rendered as Kong renders it", async () => {
    const res = await call("POST", "/certificates", { cert: a.cert, key: a.key, tags: ["edge"] });
    expect({ status: res.status, error: res.status === 201 ? null : res.body }).toEqual({
      status: 201,
      error: null,
    });
    expect(Object.keys(res.body)).toEqual([
      "id",
      "created_at",
      "updated_at",
      "cert",
      "key",
      "cert_alt",
      "key_alt",
      "tags",
    ]);
    expect(res.body).toMatchObject({
      cert: a.cert,
      key: a.key,
      cert_alt: null,
      key_alt: null,
      tags: ["edge"],
    });
  });

  test("a key of another certificate: Kong's entity check, and no key in the error", async () => {
    const res = await call("POST", "/certificates", { cert: a.cert, key: b.key });
    expect(res).toEqual({
      status: 400,
      body: violation("schema violation (certificate does not match key)", {
        "@entity": ["certificate does not match key"],
      }),
    });
    expect(JSON.stringify(res.body)).not.toContain("PRIVATE KEY");
  });

  test("text that is no PEM is refused per field", async () => {
    const res = await call("POST", "/certificates", { cert: "nope", key: "secret-ish" });
    expect(res.status).toBe(400);
    expect(res.body.fields.cert).toStartWith("invalid certificate: ");
    expect(res.body.fields.key).toStartWith("invalid key: ");
    expect(JSON.stringify(res.body)).not.toContain("secret-ish");
    expect((await call("POST", "/certificates", { cert: a.cert })).body.fields).toEqual({
      key: "required field missing",
    });
  });

  test("an alternative pair: both or neither, matching, and of another key type", async () => {
    expect(
      (await call("POST", "/certificates", { cert: a.cert, key: a.key, cert_alt: ec.cert })).body,
    ).toEqual(
      violation("schema violation (all or none of these fields must be set: 'cert_alt', 'key_alt')", {
        "@entity": ["all or none of these fields must be set: 'cert_alt', 'key_alt'"],
      }),
    );
    const same = await call("POST", "/certificates", {
      cert: a.cert,
      key: a.key,
      cert_alt: b.cert,
      key_alt: b.key,
    });
    expect(same.body.fields).toEqual({
      "@entity": [
        "certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the " +
          "provided certificates were both of the same type",
      ],
    });
    const mismatch = await call("POST", "/certificates", {
      cert: a.cert,
      key: a.key,
      cert_alt: ec.cert,
      key_alt: (await ca.leaf(["x.test"], { type: "ec" })).key,
    });
    expect(mismatch.body.fields).toEqual({ "@entity": ["alternative certificate does not match key"] });
    const ok = await call("POST", "/certificates", {
      cert: a.cert,
      key: a.key,
      cert_alt: ec.cert,
      key_alt: ec.key,
    });
    expect(ok.status).toBe(201);
  });
});

describe("snis", () => {
  let certificate: string;

  beforeAll(async () => {
    certificate = (await call("POST", "/certificates", { cert: a.cert, key: a.key })).body.id;
  });

  test("nested under a certificate, named in lower case, addressed by name", async () => {
    const res = await call("POST", `/certificates/${certificate}/snis`, { name: "*.Example.test" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: "*.example.test", certificate: { id: certificate }, tags: null });
    expect((await call("GET", "/snis/*.example.test")).body.id).toBe(res.body.id);
    const listed = await call("GET", `/certificates/${certificate}/snis`);
    expect(listed.body.data.map((s: { name: string }) => s.name)).toEqual(["*.example.test"]);
  });

  test("a name is unique across certificates (Kong's 409)", async () => {
    await call("POST", "/snis", { name: "taken.test", certificate: { id: certificate } });
    const other = (await call("POST", "/certificates", { cert: b.cert, key: b.key })).body.id;
    expect(await call("POST", `/certificates/${other}/snis`, { name: "taken.test" })).toEqual({
      status: 409,
      body: {
        code: 5,
        name: "unique constraint violation",
        message: `UNIQUE violation detected on '{name="taken.test"}'`,
        fields: { name: "taken.test" },
      },
    });
  });

  test.each([
    ["x.*.test", "wildcard must be leftmost or rightmost character"],
    ["*.a.*", "only one wildcard must be specified"],
    ["10.0.0.1", "must not be an IP"],
    ["a.test:443", "must not have a port"],
  ])("the name %p is refused: %s", async (name, message) => {
    const res = await call("POST", "/snis", { name, certificate: { id: certificate } });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual({ name: message });
  });

  test("a certificate is required, and must exist", async () => {
    expect((await call("POST", "/snis", { name: "n.test" })).body.fields).toEqual({
      certificate: "required field missing",
    });
    const missing = await call("POST", "/snis", {
      name: "n.test",
      certificate: { id: "00000000-0000-4000-8000-000000000000" },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe(4);
  });

  test("deleting a certificate deletes its SNIs", async () => {
    const id = (await call("POST", "/certificates", { cert: a.cert, key: a.key })).body.id;
    await call("POST", `/certificates/${id}/snis`, { name: "cascade.test" });
    expect((await call("DELETE", `/certificates/${id}`)).status).toBe(204);
    expect((await call("GET", "/snis/cascade.test")).status).toBe(404);
  });
});

describe("ca_certificates", () => {
  test("a CA is stored with its SHA-256 digest, once", async () => {
    const res = await call("POST", "/ca_certificates", { cert: ca.ca.cert });
    expect(res.status).toBe(201);
    const digest = new Bun.CryptoHasher("sha256")
      .update(Buffer.from(ca.ca.cert.replace(/-----[A-Z ]+-----|\s/g, ""), "base64"))
      .digest("hex");
    expect(res.body.cert_digest).toBe(digest);
    const again = await call("POST", "/ca_certificates", { cert: ca.ca.cert });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(`UNIQUE violation detected on '{cert_digest="${digest}"}'`);
  });

  test("a leaf certificate, or two at once, is refused with Kong's messages", async () => {
    expect((await call("POST", "/ca_certificates", { cert: a.cert })).body.fields).toEqual({
      "@entity": ['certificate does not appear to be a CA because it is missing the "CA" basic constraint'],
    });
    expect((await call("POST", "/ca_certificates", { cert: ca.ca.cert + a.cert })).body.fields).toEqual({
      "@entity": ["please submit only one certificate at a time"],
    });
  });
});

describe("references from services and upstreams", () => {
  const MISSING = "00000000-0000-4000-8000-00000000000c";
  let certificate: string;
  let caId: string;

  beforeAll(async () => {
    certificate = (await call("POST", "/certificates", { cert: b.cert, key: b.key })).body.id;
    const otherCa = await TestCa.create("Referenced CA");
    caId = (await call("POST", "/ca_certificates", { cert: otherCa.ca.cert })).body.id;
  });

  test("a client_certificate that does not exist: Kong's foreign key violation, nothing stored", async () => {
    const res = await call("POST", "/services", {
      name: "no-client-cert",
      url: "https://upstream.test",
      client_certificate: { id: MISSING },
    });
    expect(res).toEqual({
      status: 400,
      body: {
        code: 4,
        name: "foreign key violation",
        message: `the foreign key '{id="${MISSING}"}' does not reference an existing 'certificates' entity.`,
        fields: { client_certificate: { id: MISSING } },
      },
    });
    expect((await call("GET", "/services/no-client-cert")).status).toBe(404);
    const upstream = await call("POST", "/upstreams", {
      name: "u.test",
      client_certificate: { id: MISSING },
    });
    expect(upstream.status).toBe(400);
    expect(upstream.body.fields).toEqual({ client_certificate: { id: MISSING } });
  });

  test("a ca_certificates id that does not exist is refused the same way, by PATCH too", async () => {
    const res = await call("POST", "/services", {
      name: "no-ca",
      url: "https://upstream.test",
      ca_certificates: [caId, MISSING],
    });
    expect(res).toEqual({
      status: 400,
      body: {
        code: 4,
        name: "foreign key violation",
        message: `the foreign key '{id="${MISSING}"}' does not reference an existing 'ca_certificates' entity.`,
        fields: { ca_certificates: { id: MISSING } },
      },
    });
    expect((await call("POST", "/services", { name: "with-ca", url: "https://upstream.test" })).status).toBe(
      201,
    );
    const patched = await call("PATCH", "/services/with-ca", { ca_certificates: [MISSING] });
    expect(patched.status).toBe(400);
    expect(patched.body.code).toBe(4);
    expect((await call("GET", "/services/with-ca")).body.ca_certificates).toBeNull();
  });

  test("a certificate a service or an upstream names cannot be deleted (Kong's restriction)", async () => {
    const service = await call("POST", "/services", {
      name: "mtls",
      url: "https://upstream.test",
      client_certificate: { id: certificate },
    });
    expect(service.status).toBe(201);
    await call("POST", `/certificates/${certificate}/snis`, { name: "kept.test" });
    expect(await call("DELETE", `/certificates/${certificate}`)).toEqual({
      status: 400,
      body: {
        code: 4,
        name: "foreign key violation",
        message: "an existing 'services' entity references this 'certificates' entity",
        fields: { "@referenced_by": "services" },
      },
    });
    // Refused before anything cascaded: the SNI is still there.
    expect((await call("GET", "/snis/kept.test")).status).toBe(200);
    expect((await call("DELETE", "/services/mtls")).status).toBe(204);
    const upstream = await call("POST", "/upstreams", {
      name: "mtls.test",
      client_certificate: { id: certificate },
    });
    expect(upstream.status).toBe(201);
    const refused = await call("DELETE", `/certificates/${certificate}`);
    expect(refused.body.message).toBe("an existing 'upstreams' entity references this 'certificates' entity");
    expect((await call("DELETE", "/upstreams/mtls.test")).status).toBe(204);
    expect((await call("DELETE", `/certificates/${certificate}`)).status).toBe(204);
    expect((await call("GET", "/snis/kept.test")).status).toBe(404);
  });

  test("a CA certificate a service trusts cannot be deleted (Kong's code 19)", async () => {
    const service = await call("POST", "/services", {
      name: "trusting",
      url: "https://upstream.test",
      tls_verify: true,
      ca_certificates: [caId],
    });
    expect(service.status).toBe(201);
    expect(await call("DELETE", `/ca_certificates/${caId}`)).toEqual({
      status: 400,
      body: {
        code: 19,
        name: "referenced by others",
        message: `ca certificate ${caId} is still referenced by services (id = ${service.body.id})`,
      },
    });
    expect((await call("PATCH", "/services/trusting", { ca_certificates: null })).status).toBe(200);
    expect((await call("DELETE", `/ca_certificates/${caId}`)).status).toBe(204);
  });
});

describe("GraphQL", () => {
  test("a certificate's key is served only when the query selects it", async () => {
    const query = async (fields: string) => {
      const res = await tg.admin("/graphql", {
        method: "POST",
        body: { query: `{ certificates { data { ${fields} } } }` },
      });
      return (await res.json()) as { data: { certificates: { data: Record<string, unknown>[] } } };
    };
    const without = await query("id cert");
    expect(without.data.certificates.data.length).toBeGreaterThan(0);
    expect(JSON.stringify(without)).not.toContain("PRIVATE KEY");
    const withKey = await query("id key");
    expect(JSON.stringify(withKey)).toContain("PRIVATE KEY");
  });
});
