// Black-box: basic-auth configured through the admin REST API, observed through the proxy — Kong's 401
// challenge, wrong passwords, Proxy-Authorization, hide_credentials, anonymous, and passwords never shown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  admin,
  basic,
  expected,
  expectNoSecrets,
  identity,
  type PluginWorld,
  startWorld,
} from "./helpers.ts";

const PASSWORD = "c0rrect horse:battery";

let w: PluginWorld;
let bob: { id: string };
let anon: { id: string };
let credential: { id: string; password: string };

beforeAll(async () => {
  w = await startWorld();
  bob = await w.consumer({ custom_id: "bob-cid" });
  anon = await w.consumer({ username: "nobody" });
  credential = await admin(w.tg, "POST", `/consumers/${bob.id}/basic-auth`, {
    username: "bob",
    password: PASSWORD,
  });
  const { routes } = await w.service("ba", ["/ba", "/ba-hide", "/ba-anon", "/ba-realm"]);
  const configs = [{}, { hide_credentials: true }, { anonymous: anon.id }, { realm: "api" }];
  for (let i = 0; i < routes.length; i++)
    await admin(w.tg, "POST", `/routes/${routes[i]}/plugins`, { name: "basic-auth", config: configs[i] });
  await w.synced();
});

afterAll(() => w.stop());

describe("basic-auth refusals", () => {
  test('no credentials: 401 Unauthorized with WWW-Authenticate: Basic realm="service"', async () => {
    const answer = await w.refused("/ba", undefined, 401, "Unauthorized");
    expect(answer.headers.get("www-authenticate")).toBe('Basic realm="service"');
  });

  test("a wrong password, an unknown user, a malformed header: the same 401, no secret echoed", async () => {
    const cases = [
      basic("bob", "wrong password"),
      basic("bob", ""),
      basic("nobody-here", PASSWORD),
      "Basic !!!not-base64",
      `Basic ${Buffer.from("no-colon").toString("base64")}`,
      "Bearer abc",
    ];
    for (const authorization of cases) {
      const answer = await w.refused("/ba", { headers: { authorization } }, 401, "Unauthorized");
      expect(answer.headers.get("www-authenticate")).toBe('Basic realm="service"');
      expectNoSecrets(answer, ["wrong password", PASSWORD, credential.password]);
    }
  });

  test("a configured realm is announced", async () => {
    const answer = await w.refused("/ba-realm", undefined, 401, "Unauthorized");
    expect(answer.headers.get("www-authenticate")).toBe('Basic realm="api"');
  });
});

describe("basic-auth success", () => {
  test("the right password: consumer identity upstream, the credential's username as identifier", async () => {
    const echo = await w.pass("/ba", { headers: { authorization: basic("bob", PASSWORD) } });
    expect(identity(echo)).toEqual(
      expected({
        "x-consumer-id": bob.id,
        "x-consumer-custom-id": "bob-cid",
        "x-credential-identifier": "bob",
      }),
    );
    expect(echo.headers.authorization).toBe(basic("bob", PASSWORD));
  });

  test("the scheme is case-insensitive and repeated requests (cached verification) still pass", async () => {
    const lower = `basic ${basic("bob", PASSWORD).slice(6)}`;
    for (let i = 0; i < 3; i++)
      expect((await w.pass("/ba", { headers: { authorization: lower } })).headers["x-consumer-id"]).toBe(
        bob.id,
      );
    // A cached success does not make a wrong password pass, nor the reverse.
    await w.refused("/ba", { headers: { authorization: basic("bob", "nope") } }, 401, "Unauthorized");
    await w.pass("/ba", { headers: { authorization: basic("bob", PASSWORD) } });
  });

  test("Proxy-Authorization authenticates and leaves Authorization for the upstream", async () => {
    const echo = await w.pass("/ba", {
      headers: { "proxy-authorization": basic("bob", PASSWORD), authorization: "Bearer upstream-token" },
    });
    expect(echo.headers["x-consumer-id"]).toBe(bob.id);
    expect(echo.headers.authorization).toBe("Bearer upstream-token");
  });

  test("hide_credentials removes the header that authenticated", async () => {
    const echo = await w.pass("/ba-hide", { headers: { authorization: basic("bob", PASSWORD) } });
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers["x-consumer-id"]).toBe(bob.id);
    const proxied = await w.pass("/ba-hide", {
      headers: { "proxy-authorization": basic("bob", PASSWORD), authorization: "Bearer upstream-token" },
    });
    expect(proxied.headers["proxy-authorization"]).toBeUndefined();
    expect(proxied.headers.authorization).toBe("Bearer upstream-token");
  });

  test("anonymous: a failure continues as the anonymous consumer (given by id)", async () => {
    for (const headers of [{}, { authorization: basic("bob", "wrong") }] as Record<string, string>[]) {
      const echo = await w.pass("/ba-anon", { headers });
      expect(identity(echo)).toEqual(
        expected({
          "x-consumer-id": anon.id,
          "x-consumer-username": "nobody",
          "x-anonymous-consumer": "true",
        }),
      );
    }
    const real = await w.pass("/ba-anon", { headers: { authorization: basic("bob", PASSWORD) } });
    expect(real.headers["x-anonymous-consumer"]).toBeUndefined();
    expect(real.headers["x-consumer-id"]).toBe(bob.id);
  });
});

describe("basic-auth passwords in the admin API", () => {
  test("the password is stored hashed: never returned in clear by any read", async () => {
    expect(credential.password).not.toBe(PASSWORD);
    expect(credential.password).toStartWith("$argon2id$");
    const reads = [
      `/consumers/${bob.id}/basic-auth`,
      `/consumers/${bob.id}/basic-auth/${credential.id}`,
      `/consumers/${bob.id}/basic-auth/bob`,
      "/basic-auths",
      `/basic-auths/${credential.id}`,
      "/basic-auths/bob",
    ];
    for (const path of reads) {
      const res = await w.tg.admin(path);
      const text = await res.text();
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(text).not.toContain(PASSWORD);
      expect(text).toContain(credential.password);
    }
  });

  test("a password change through PATCH is hashed too, and the proxy follows it; other PATCHes keep it", async () => {
    const updated = await admin(w.tg, "PATCH", `/basic-auths/${credential.id}`, { password: "n3w-pass" });
    expect(updated.password).toStartWith("$argon2id$");
    expect(JSON.stringify(updated)).not.toContain("n3w-pass");
    await w.synced();
    await w.pass("/ba", { headers: { authorization: basic("bob", "n3w-pass") } });
    await w.refused("/ba", { headers: { authorization: basic("bob", PASSWORD) } }, 401, "Unauthorized");
    await admin(w.tg, "PATCH", `/basic-auths/${credential.id}`, { password: PASSWORD });
    // A PATCH that does not touch the password keeps the stored hash as it is (no hash of the hash).
    const tagged = await admin(w.tg, "PATCH", `/basic-auths/${credential.id}`, { tags: ["t1"] });
    await w.synced();
    expect(tagged.tags).toEqual(["t1"]);
    await w.pass("/ba", { headers: { authorization: basic("bob", PASSWORD) } });
  });

  test("a duplicate username is a 409; a schema error never echoes the password", async () => {
    const res = await w.tg.admin(`/consumers/${anon.id}/basic-auth`, {
      method: "POST",
      body: { username: "bob", password: "other-secret-1" },
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{username="bob"}'`,
      fields: { username: "bob" },
    });
    const bad = await w.tg.admin(`/consumers/${anon.id}/basic-auth`, {
      method: "POST",
      body: { password: "other-secret-2" },
    });
    expect(bad.status).toBe(400);
    const body = await bad.text();
    expect(JSON.parse(body).fields).toEqual({ username: "required field missing" });
    expect(body).not.toContain("other-secret-2");
  });
});
