// Black-box: several plugins on one request — logical OR of authentication plugins through `anonymous`,
// logical AND without it, and Kong's scope precedence (global < service < route < route+service) observed
// through behaviour, including fallback when the more specific configuration goes away.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, basic, type Echo, expected, identity, type PluginWorld, startWorld } from "./helpers.ts";

let w: PluginWorld;
let alice: { id: string };
let bob: { id: string };
let anon: { id: string };
let aliceKey: string;
const FORBIDDEN = "You cannot consume this service";

async function hs256(secret: string, claims: Record<string, unknown>): Promise<string> {
  const enc = new TextEncoder();
  const b64 = (d: string | Uint8Array) => Buffer.from(d).toString("base64url");
  const signed = `${b64(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64(JSON.stringify(claims))}`;
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return `${signed}.${b64(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(signed))))}`;
}

beforeAll(async () => {
  w = await startWorld();
  alice = await w.consumer({ username: "alice" });
  bob = await w.consumer({ username: "bob", custom_id: "bob-cid" });
  anon = await w.consumer({ username: "anonymous" });
  aliceKey = (await admin(w.tg, "POST", "/consumers/alice/key-auth", { key: "alice-key" })).id;
  await admin(w.tg, "POST", "/consumers/bob/basic-auth", { username: "bob", password: "bob-pw" });
  await admin(w.tg, "POST", "/consumers/bob/jwt", { key: "bob-iss", secret: "bob-jwt-secret" });
  for (const c of ["alice", "bob"]) await admin(w.tg, "POST", `/consumers/${c}/acls`, { group: "users" });
  await admin(w.tg, "POST", "/consumers/anonymous/acls", { group: "nobody" });
  await w.synced();
});

afterAll(() => w.stop());

describe("logical OR and AND of authentication plugins", () => {
  beforeAll(async () => {
    const { routes } = await w.service("combo", ["/or", "/and", "/or-open"]);
    const [or, and, open] = routes as [string, string, string];
    for (const name of ["key-auth", "basic-auth", "jwt"])
      await admin(w.tg, "POST", `/routes/${or}/plugins`, { name, config: { anonymous: "anonymous" } });
    await admin(w.tg, "POST", `/routes/${or}/plugins`, { name: "acl", config: { allow: ["users"] } });
    for (const name of ["key-auth", "basic-auth"])
      await admin(w.tg, "POST", `/routes/${and}/plugins`, { name });
    for (const name of ["key-auth", "basic-auth"])
      await admin(w.tg, "POST", `/routes/${open}/plugins`, { name, config: { anonymous: anon.id } });
    await w.synced();
  });

  test("OR: any one valid credential is enough, each identifies its own consumer", async () => {
    expect(identity(await w.pass("/or", { headers: { apikey: "alice-key" } }))).toEqual(
      expected({
        "x-consumer-id": alice.id,
        "x-consumer-username": "alice",
        "x-credential-identifier": aliceKey,
        "x-consumer-groups": "users",
      }),
    );
    const viaBasic = await w.pass("/or", { headers: { authorization: basic("bob", "bob-pw") } });
    expect(identity(viaBasic)).toEqual(
      expected({
        "x-consumer-id": bob.id,
        "x-consumer-username": "bob",
        "x-consumer-custom-id": "bob-cid",
        "x-credential-identifier": "bob",
        "x-consumer-groups": "users",
      }),
    );
    const viaJwt = await w.pass("/or", {
      headers: { authorization: `Bearer ${await hs256("bob-jwt-secret", { iss: "bob-iss" })}` },
    });
    expect(viaJwt.headers["x-credential-identifier"]).toBe("bob-iss");
  });

  test("OR: a failed plugin falls back to anonymous, and a later plugin's success replaces it", async () => {
    const echo = await w.pass("/or", {
      headers: { apikey: "wrong-key", authorization: basic("bob", "bob-pw") },
    });
    expect(echo.headers["x-consumer-id"]).toBe(bob.id);
    expect(echo.headers["x-anonymous-consumer"]).toBeUndefined();
    expect(echo.headers["x-credential-identifier"]).toBe("bob");
  });

  test("OR: the first plugin (by priority) to succeed wins; later ones stand aside", async () => {
    // jwt (1450) runs before key-auth (1250) before basic-auth (1100).
    const token = await hs256("bob-jwt-secret", { iss: "bob-iss" });
    const echo = await w.pass(`/or?jwt=${token}`, { headers: { apikey: "alice-key" } });
    expect(echo.headers["x-consumer-id"]).toBe(bob.id);
    expect(echo.headers["x-credential-identifier"]).toBe("bob-iss");
    const keyFirst = await w.pass("/or", {
      headers: { apikey: "alice-key", authorization: basic("bob", "wrong") },
    });
    expect(keyFirst.headers["x-consumer-id"]).toBe(alice.id);
  });

  test("OR: nothing valid leaves the anonymous consumer, which acl then refuses", async () => {
    await w.refused("/or", undefined, 403, FORBIDDEN);
    const open = await w.pass("/or-open");
    expect(identity(open)).toEqual(
      expected({
        "x-consumer-id": anon.id,
        "x-consumer-username": "anonymous",
        "x-anonymous-consumer": "true",
      }),
    );
  });

  test("AND: without anonymous every plugin must succeed; the last one sets the identity", async () => {
    await w.refused("/and", { headers: { apikey: "alice-key" } }, 401, "Unauthorized");
    await w.refused(
      "/and",
      { headers: { authorization: basic("bob", "bob-pw") } },
      401,
      "No API key found in request",
    );
    const both = await w.pass("/and", {
      headers: { apikey: "alice-key", authorization: basic("bob", "bob-pw") },
    });
    expect(both.headers["x-consumer-id"]).toBe(bob.id);
    expect(both.headers["x-credential-identifier"]).toBe("bob");
  });

  // key-auth declares the consumer headers it edits, so the hook after it knows which of them may be there; a
  // header the client did not send and no hook set is not deleted (nothing to delete). These make sure what an
  // earlier hook did set is still cleared.
  test("AND: the later plugin clears the custom id the earlier one set for its consumer", async () => {
    await w.consumer({ username: "carol", custom_id: "carol-cid" });
    const dave = await w.consumer({ username: "dave" });
    await admin(w.tg, "POST", "/consumers/carol/key-auth", { key: "carol-key" });
    await admin(w.tg, "POST", "/consumers/dave/basic-auth", { username: "dave", password: "dave-pw" });
    await w.synced();
    const both = await w.pass("/and", {
      headers: { apikey: "carol-key", authorization: basic("dave", "dave-pw") },
    });
    expect(identity(both)).toEqual(
      expected({
        "x-consumer-id": dave.id,
        "x-consumer-username": "dave",
        "x-credential-identifier": "dave",
      }),
    );
  });

  test("OR after key-auth alone: basic-auth's success clears the anonymous flag key-auth set", async () => {
    const echo = await w.pass("/or-open", {
      headers: { apikey: "wrong-key", authorization: basic("bob", "bob-pw") },
    });
    expect(identity(echo)).toEqual(
      expected({
        "x-consumer-id": bob.id,
        "x-consumer-username": "bob",
        "x-consumer-custom-id": "bob-cid",
        "x-credential-identifier": "bob",
      }),
    );
  });
});

describe("scope precedence, observed through behaviour", () => {
  let main: { id: string; routes: string[] };
  let servicePlugin: string;
  let routePlugin: string;

  beforeAll(async () => {
    // Each scope reads the key from a different header, so the header that works shows which config ran.
    main = await w.service("prec", ["/prec-route", "/prec-both", "/prec-service"]);
    await w.service("prec-other", ["/prec-global"]);
    await admin(w.tg, "POST", "/plugins", { name: "key-auth", config: { key_names: ["global-key"] } });
    servicePlugin = (
      await admin(w.tg, "POST", `/services/${main.id}/plugins`, {
        name: "key-auth",
        config: { key_names: ["service-key"] },
      })
    ).id;
    routePlugin = (
      await admin(w.tg, "POST", `/routes/${main.routes[0]}/plugins`, {
        name: "key-auth",
        config: { key_names: ["route-key"] },
      })
    ).id;
    await admin(w.tg, "POST", "/plugins", {
      name: "key-auth",
      route: { id: main.routes[1] },
      service: { id: main.id },
      config: { key_names: ["both-key"] },
    });
    await w.synced();
  });

  /** Which of the scope headers opens `path` (exactly one must). */
  async function winner(path: string): Promise<string[]> {
    const open: string[] = [];
    for (const header of ["global-key", "service-key", "route-key", "both-key"]) {
      const answer = await w.call(path, { headers: { [header]: "alice-key" } });
      if (answer.status === 200) open.push(header);
      else expect({ header, status: answer.status }).toEqual({ header, status: 401 });
    }
    return open;
  }

  test("route+service beats route beats service beats global", async () => {
    expect(await winner("/prec-both")).toEqual(["both-key"]);
    expect(await winner("/prec-route")).toEqual(["route-key"]);
    expect(await winner("/prec-service")).toEqual(["service-key"]);
    expect(await winner("/prec-global")).toEqual(["global-key"]);
    // One key-auth runs per request (the most specific), so a keyless request gets one plain refusal.
    await w.refused("/prec-route", undefined, 401, "No API key found in request");
  });

  test("removing or disabling the specific configuration falls back to the next scope", async () => {
    await admin(w.tg, "DELETE", `/plugins/${routePlugin}`);
    await w.synced();
    expect(await winner("/prec-route")).toEqual(["service-key"]);
    await admin(w.tg, "PATCH", `/plugins/${servicePlugin}`, { enabled: false });
    await w.synced();
    expect(await winner("/prec-route")).toEqual(["global-key"]);
    expect(await winner("/prec-service")).toEqual(["global-key"]);
    expect(await winner("/prec-both")).toEqual(["both-key"]);
    await admin(w.tg, "PATCH", `/plugins/${servicePlugin}`, { enabled: true });
    await w.synced();
    expect(await winner("/prec-service")).toEqual(["service-key"]);
  });

  test("different plugins from different scopes all run: global acl after a route's key-auth", async () => {
    const acl = await admin(w.tg, "POST", "/plugins", { name: "acl", config: { deny: ["users"] } });
    await w.synced();
    await w.refused("/prec-service", { headers: { "service-key": "alice-key" } }, 403, FORBIDDEN);
    await admin(w.tg, "DELETE", `/plugins/${acl.id}`);
    await w.synced();
    await w.pass("/prec-service", { headers: { "service-key": "alice-key" } });
  });
});

describe("forwarded headers after plugins that declare their edits (the received snapshot guides the rewrite)", () => {
  // The same client headers through a chain whose access hooks all declare what they edit (key-auth, acl,
  // rate-limiting: the rewrite reads the snapshot) and through one with request-transformer (may edit any
  // header: the rewrite reads the live headers). Both must forward exactly the same.
  const sent = {
    apikey: "alice-key",
    connection: "x-custom, x-consumer-id, close",
    "x-custom": "named in Connection",
    te: "trailers",
    proxy: "http://evil.example",
    "keep-alive": "timeout=5",
    "x-forwarded-for": "10.0.0.1",
    "x-forwarded-prefix": "/evil",
    "x-forwarded-host": "evil.example",
    via: "1.0 client",
  };
  const watched = [
    "connection",
    "x-custom",
    "te",
    "proxy",
    "keep-alive",
    "x-forwarded-for",
    "x-forwarded-prefix",
    "x-forwarded-host",
    "via",
    "x-consumer-id",
    "x-consumer-username",
    "x-consumer-groups",
  ];

  beforeAll(async () => {
    const { routes } = await w.service("forwarding", ["/fwd-declared", "/fwd-live"]);
    const [declared, live] = routes as [string, string];
    for (const route of [declared, live]) {
      await admin(w.tg, "POST", `/routes/${route}/plugins`, { name: "key-auth" });
      await admin(w.tg, "POST", `/routes/${route}/plugins`, { name: "acl", config: { allow: ["users"] } });
    }
    await admin(w.tg, "POST", `/routes/${declared}/plugins`, {
      name: "rate-limiting",
      config: { minute: 1000 },
    });
    await admin(w.tg, "POST", `/routes/${live}/plugins`, {
      name: "request-transformer",
      config: { add: { headers: ["x-added:1"] } },
    });
    await w.synced();
  });

  test("hop-by-hop and Connection-named headers go, X-Forwarded-* and Via are rewritten, the same either way", async () => {
    const pick = (echo: Echo) => Object.fromEntries(watched.map((h) => [h, echo.headers[h]]));
    const declared = pick(await w.pass("/fwd-declared", { headers: sent }));
    const live = pick(await w.pass("/fwd-live", { headers: sent }));
    // Each route's own stripped prefix replaces the client's.
    expect([declared["x-forwarded-prefix"], live["x-forwarded-prefix"]]).toEqual([
      "/fwd-declared",
      "/fwd-live",
    ]);
    expect({ ...declared, "x-forwarded-prefix": "" }).toEqual({ ...live, "x-forwarded-prefix": "" });
    expect(declared).toEqual({
      // fetch's own, for its keep-alive connection to the upstream.
      connection: "keep-alive",
      "x-custom": undefined,
      te: undefined,
      proxy: undefined,
      "keep-alive": undefined,
      "x-forwarded-for": "10.0.0.1, 127.0.0.1",
      "x-forwarded-prefix": "/fwd-declared",
      "x-forwarded-host": "127.0.0.1",
      via: expect.stringMatching(/^1\.0 client, 1\.1 portico\//) as unknown as string,
      // Named in Connection: removed after key-auth set it, as on any route.
      "x-consumer-id": undefined,
      "x-consumer-username": "alice",
      "x-consumer-groups": "users",
    });
  });
});
