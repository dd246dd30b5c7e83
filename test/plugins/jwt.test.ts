// Black-box: jwt configured through the admin REST API, observed through the proxy. Tokens are signed in the
// test with Web Crypto: HS256/384/512 secrets, and RS256/ES256 key pairs generated here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, expected, expectNoSecrets, identity, type PluginWorld, startWorld } from "./helpers.ts";

type Alg = "HS256" | "HS384" | "HS512" | "RS256" | "ES256";

const enc = new TextEncoder();
const b64url = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

async function hmacKey(secret: string | Uint8Array<ArrayBuffer>, alg: string): Promise<CryptoKey> {
  const raw = typeof secret === "string" ? enc.encode(secret) : secret;
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: `SHA-${alg.slice(2)}` }, false, ["sign"]);
}

const SIGN_PARAMS: Record<string, AlgorithmIdentifier | EcdsaParams> = {
  HS: "HMAC",
  RS: "RSASSA-PKCS1-v1_5",
  ES: { name: "ECDSA", hash: "SHA-256" },
};

/** A compact JWS: header (alg, typ, extra) and claims signed with `key` under the header's alg. */
async function sign(
  key: CryptoKey,
  alg: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const signed = `${b64url(JSON.stringify({ typ: "JWT", alg, ...header }))}.${b64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(SIGN_PARAMS[alg.slice(0, 2)]!, key, enc.encode(signed));
  return `${signed}.${b64url(new Uint8Array(signature))}`;
}

async function publicPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("spki", key)).toString("base64");
  return `-----BEGIN PUBLIC KEY-----\n${der.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

let w: PluginWorld;
let carol: { id: string };
let anon: { id: string };
const keys = new Map<string, CryptoKey>();
const SECRETS: Record<string, string> = {
  HS256: "hs256-secret-value",
  HS384: "hs384-secret-value",
  HS512: "hs512-secret-value",
};
const RAW_B64_SECRET = new Uint8Array([0, 255, 1, 254, 2, 253, 3, 252, 9, 8, 7, 6, 5, 4, 3, 2]);
const ROUTES: Record<string, Record<string, unknown>> = {
  "/jwt": {},
  "/jwt-exp": { claims_to_verify: ["exp"] },
  "/jwt-nbf": { claims_to_verify: ["nbf"] },
  "/jwt-max": { claims_to_verify: ["exp"], maximum_expiration: 60 },
  "/jwt-max-only": { maximum_expiration: 60 },
  "/jwt-b64": { secret_is_base64: true },
  "/jwt-cookie": { cookie_names: ["auth"], uri_param_names: ["token"] },
  "/jwt-kid": { key_claim_name: "kid" },
  "/jwt-anon": { anonymous: "jwt-anonymous" },
  "/jwt-realm": { realm: "portico" },
  "/jwt-header": { header_names: ["x-jwt"] },
  "/jwt-preflight": { run_on_preflight: false },
};

/** A valid token for the credential whose key (iss) is `iss`. */
const token = (alg: Alg, claims: Record<string, unknown> = {}) =>
  sign(keys.get(alg)!, alg, { iss: `${alg.toLowerCase()}-iss`, ...claims });
const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

beforeAll(async () => {
  w = await startWorld();
  carol = await w.consumer({ username: "carol" });
  anon = await w.consumer({ username: "jwt-anonymous" });
  for (const [alg, secret] of Object.entries(SECRETS)) {
    keys.set(alg, await hmacKey(secret, alg));
    await admin(w.tg, "POST", "/consumers/carol/jwt", {
      key: `${alg.toLowerCase()}-iss`,
      secret,
      algorithm: alg,
    });
  }
  const rsa = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  keys.set("RS256", rsa.privateKey);
  keys.set("ES256", ec.privateKey);
  for (const [alg, pair] of [
    ["RS256", rsa],
    ["ES256", ec],
  ] as const)
    await admin(w.tg, "POST", "/consumers/carol/jwt", {
      key: `${alg.toLowerCase()}-iss`,
      algorithm: alg,
      rsa_public_key: await publicPem(pair.publicKey),
    });
  await admin(w.tg, "POST", "/consumers/carol/jwt", {
    key: "b64-iss",
    secret: Buffer.from(RAW_B64_SECRET).toString("base64"),
  });
  const { routes } = await w.service("jwt", Object.keys(ROUTES));
  const configs = Object.values(ROUTES);
  for (let i = 0; i < routes.length; i++)
    await admin(w.tg, "POST", `/routes/${routes[i]}/plugins`, { name: "jwt", config: configs[i] });
  await w.synced();
});

afterAll(() => w.stop());

const INVALID = 'Bearer error="invalid_token"';

describe("jwt signatures", () => {
  for (const alg of ["HS256", "HS384", "HS512", "RS256", "ES256"] as const)
    test(`${alg}: a valid token passes with the consumer and the credential key upstream`, async () => {
      const echo = await w.pass("/jwt", bearer(await token(alg)));
      expect(identity(echo)).toEqual(
        expected({
          "x-consumer-id": carol.id,
          "x-consumer-username": "carol",
          "x-credential-identifier": `${alg.toLowerCase()}-iss`,
        }),
      );
    });

  test("a token signed with the wrong secret or key: 401 Invalid signature", async () => {
    const wrongHmac = await sign(await hmacKey("not-the-secret", "HS256"), "HS256", { iss: "hs256-iss" });
    const other = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      false,
      ["sign"],
    );
    const wrongRsa = await sign(other.privateKey, "RS256", { iss: "rs256-iss" });
    const otherEc = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    const wrongEc = await sign(otherEc.privateKey, "ES256", { iss: "es256-iss" });
    for (const t of [wrongHmac, wrongRsa, wrongEc]) {
      const answer = await w.refused("/jwt", bearer(t), 401, "Invalid signature");
      expect(answer.headers.get("www-authenticate")).toBe(INVALID);
      expectNoSecrets(answer, [t, SECRETS.HS256!]);
    }
  });

  test("tampered claims break the signature", async () => {
    const [h, , s] = (await token("HS256")).split(".");
    const forged = `${h}.${b64url(JSON.stringify({ iss: "hs256-iss", admin: true }))}.${s}`;
    await w.refused("/jwt", bearer(forged), 401, "Invalid signature");
    const [rh, , rs] = (await token("RS256")).split(".");
    await w.refused(
      "/jwt",
      bearer(`${rh}.${b64url(JSON.stringify({ iss: "rs256-iss", x: 1 }))}.${rs}`),
      401,
      "Invalid signature",
    );
  });

  test("the token's alg must be the credential's: 403 Invalid algorithm", async () => {
    const t = await sign(await hmacKey(SECRETS.HS256!, "HS512"), "HS512", { iss: "hs256-iss" });
    const answer = await w.refused("/jwt", bearer(t), 403, "Invalid algorithm");
    expect(answer.headers.get("www-authenticate")).toBe(INVALID);
    // An RS256 credential cannot be fooled with an HMAC over its public key.
    const pem = (await (await w.tg.admin("/jwts/rs256-iss")).json()).rsa_public_key as string;
    const confused = await sign(await hmacKey(pem, "HS256"), "HS256", { iss: "rs256-iss" });
    await w.refused("/jwt", bearer(confused), 403, "Invalid algorithm");
  });

  test("an unsupported or missing alg is a bad token", async () => {
    const claims = b64url(JSON.stringify({ iss: "hs256-iss" }));
    await w.refused("/jwt", bearer(`${b64url('{"alg":"none"}')}.${claims}.`), 401, "Bad token; invalid alg");
    await w.refused(
      "/jwt",
      bearer(`${b64url('{"typ":"JWT"}')}.${claims}.c2ln`),
      401,
      "Bad token; invalid alg",
    );
  });

  test("malformed tokens: Bad token; invalid JSON", async () => {
    for (const t of ["abc", "abc.def", `${b64url("{")}.${b64url("{}")}.sig`]) {
      const answer = await w.refused("/jwt", bearer(t), 401, "Bad token; invalid JSON");
      expect(answer.headers.get("www-authenticate")).toBe(INVALID);
    }
  });

  test("secret_is_base64: the stored secret is decoded before verifying", async () => {
    const t = await sign(await hmacKey(RAW_B64_SECRET, "HS256"), "HS256", { iss: "b64-iss" });
    expect((await w.pass("/jwt-b64", bearer(t))).headers["x-credential-identifier"]).toBe("b64-iss");
    await w.refused("/jwt", bearer(t), 401, "Invalid signature");
  });
});

describe("jwt issuers and claims", () => {
  test("no token: 401 Unauthorized with a bare Bearer challenge", async () => {
    const answer = await w.refused("/jwt", undefined, 401, "Unauthorized");
    expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    await w.refused("/jwt", { headers: { authorization: "Basic Zm9vOmJhcg==" } }, 401, "Unauthorized");
  });

  test("missing, empty and unknown iss", async () => {
    const key = keys.get("HS256")!;
    await w.refused(
      "/jwt",
      bearer(await sign(key, "HS256", { sub: "x" })),
      401,
      "No mandatory 'iss' in claims",
    );
    await w.refused("/jwt", bearer(await sign(key, "HS256", { iss: "" })), 401, "Invalid 'iss' in claims");
    const unknown = await w.refused(
      "/jwt",
      bearer(await sign(key, "HS256", { iss: "who-is-this" })),
      401,
      "No credentials found for given 'iss'",
    );
    expect(unknown.headers.get("www-authenticate")).toBe(INVALID);
  });

  test("key_claim_name: the key may come from the token header", async () => {
    const t = await sign(keys.get("HS256")!, "HS256", { sub: "x" }, { kid: "hs256-iss" });
    expect((await w.pass("/jwt-kid", bearer(t))).headers["x-consumer-id"]).toBe(carol.id);
    await w.refused("/jwt-kid", bearer(await token("HS256")), 401, "No mandatory 'kid' in claims");
  });

  test("exp is checked only when listed in claims_to_verify; the body is Kong's claim map", async () => {
    const expired = await token("HS256", { exp: now() - 10 });
    await w.pass("/jwt", bearer(expired));
    const answer = await w.refused("/jwt-exp", bearer(expired), 401, { exp: "token expired" });
    expect(answer.headers.get("www-authenticate")).toBe(INVALID);
    await w.refused("/jwt-exp", bearer(await token("HS256")), 401, { exp: "must be a number" });
    await w.refused("/jwt-exp", bearer(await token("HS256", { exp: "soon" })), 401, {
      exp: "must be a number",
    });
    await w.pass("/jwt-exp", bearer(await token("HS256", { exp: now() + 60 })));
  });

  test("nbf in the future: token not valid yet", async () => {
    await w.refused("/jwt-nbf", bearer(await token("HS256", { nbf: now() + 120 })), 401, {
      nbf: "token not valid yet",
    });
    await w.pass("/jwt-nbf", bearer(await token("HS256", { nbf: now() - 1 })));
    await w.pass("/jwt", bearer(await token("HS256", { nbf: now() + 120 })));
  });

  test("maximum_expiration: a token living longer than allowed is refused", async () => {
    await w.refused("/jwt-max", bearer(await token("HS256", { exp: now() + 3600 })), 401, {
      exp: "exceeds maximum allowed expiration",
    });
    await w.pass("/jwt-max", bearer(await token("HS256", { exp: now() + 30 })));
  });

  test("maximum_expiration without claims_to_verify (Kong accepts it): exp is then required and bounded", async () => {
    const max = { exp: "exceeds maximum allowed expiration" };
    await w.refused("/jwt-max-only", bearer(await token("HS256")), 401, max);
    await w.refused("/jwt-max-only", bearer(await token("HS256", { exp: now() + 3600 })), 401, max);
    await w.pass("/jwt-max-only", bearer(await token("HS256", { exp: now() + 30 })));
    // exp itself is not verified here: an expired token is within the maximum.
    await w.pass("/jwt-max-only", bearer(await token("HS256", { exp: now() - 30 })));
  });

  test("claim errors are reported alone, before the maximum expiration", async () => {
    await w.refused("/jwt-max", bearer(await token("HS256", { exp: now() - 5 })), 401, {
      exp: "token expired",
    });
  });

  test("a bad signature is reported before claims (an expired forged token says Invalid signature)", async () => {
    const forged = await sign(await hmacKey("nope", "HS256"), "HS256", { iss: "hs256-iss", exp: 1 });
    await w.refused("/jwt-exp", bearer(forged), 401, "Invalid signature");
  });
});

describe("jwt token sources", () => {
  test("query parameter jwt (default) passes; the query is forwarded unchanged", async () => {
    const t = await token("HS256");
    const echo = await w.pass(`/jwt?a=1&jwt=${t}`);
    expect(echo.target).toBe(`/?a=1&jwt=${t}`);
    expect(echo.headers["x-consumer-id"]).toBe(carol.id);
  });

  test("cookie_names and uri_param_names replace the defaults", async () => {
    const t = await token("ES256");
    expect(
      (await w.pass("/jwt-cookie", { headers: { cookie: `a=1; auth=${t}; b=2` } })).headers["x-consumer-id"],
    ).toBe(carol.id);
    await w.pass(`/jwt-cookie?token=${t}`);
    await w.pass("/jwt-cookie", bearer(t));
    await w.refused(`/jwt-cookie?jwt=${t}`, undefined, 401, "Unauthorized");
    await w.refused("/jwt-cookie", { headers: { cookie: `other=${t}` } }, 401, "Unauthorized");
  });

  test("header_names: a token in a custom header must use the Bearer scheme", async () => {
    const t = await token("HS384");
    await w.pass("/jwt-header", { headers: { "x-jwt": `Bearer ${t}` } });
    await w.refused("/jwt-header", { headers: { "x-jwt": t } }, 401, "Unauthorized");
    await w.refused("/jwt-header", bearer(t), 401, "Unauthorized");
  });

  test("two different tokens: 401 Multiple tokens provided; the same token twice is one token", async () => {
    const a = await token("HS256");
    const b = await token("HS512");
    const answer = await w.refused(`/jwt?jwt=${a}`, bearer(b), 401, "Multiple tokens provided");
    expect(answer.headers.get("www-authenticate")).toBe(INVALID);
    expectNoSecrets(answer, [a, b]);
    await w.refused(`/jwt?jwt=${a}&jwt=${b}`, undefined, 401, "Multiple tokens provided");
    await w.refused(
      `/jwt-cookie?token=${a}`,
      { headers: { cookie: `auth=${b}` } },
      401,
      "Multiple tokens provided",
    );
    await w.pass(`/jwt?jwt=${a}`, bearer(a));
  });

  test("run_on_preflight false lets OPTIONS through; the default checks it", async () => {
    const echo = await w.pass("/jwt-preflight", { method: "OPTIONS" });
    expect(echo.headers["x-consumer-id"]).toBeUndefined();
    await w.refused("/jwt-preflight", undefined, 401, "Unauthorized");
    await w.refused("/jwt", { method: "OPTIONS" }, 401, "Unauthorized");
  });

  test("realm appears in both challenges", async () => {
    const none = await w.refused("/jwt-realm", undefined, 401, "Unauthorized");
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="portico"');
    const bad = await w.refused("/jwt-realm", bearer("abc"), 401, "Bad token; invalid JSON");
    expect(bad.headers.get("www-authenticate")).toBe('Bearer realm="portico", error="invalid_token"');
  });

  test("anonymous: no token or a bad one continues as the anonymous consumer", async () => {
    for (const init of [undefined, bearer("abc"), bearer(await token("HS256", { iss: "unknown" }))]) {
      const echo = await w.pass("/jwt-anon", init);
      expect(identity(echo)).toEqual(
        expected({
          "x-consumer-id": anon.id,
          "x-consumer-username": "jwt-anonymous",
          "x-anonymous-consumer": "true",
        }),
      );
    }
    const real = await w.pass("/jwt-anon", bearer(await token("RS256")));
    expect(real.headers["x-consumer-id"]).toBe(carol.id);
    expect(real.headers["x-anonymous-consumer"]).toBeUndefined();
  });
});

describe("jwt credentials in the admin API", () => {
  test("RS256 needs a loadable public key (Kong's conditional check)", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ algorithm: "RS256" }, "required field missing"],
      [{ algorithm: "RS256", rsa_public_key: "not a key" }, "invalid key"],
      [
        { algorithm: "RS256", rsa_public_key: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" },
        "invalid key",
      ],
    ];
    for (const [body, message] of cases) {
      const res = await w.tg.admin(`/consumers/${carol.id}/jwt`, { method: "POST", body });
      expect(res.status).toBe(400);
      expect((await res.json()).fields).toEqual({
        "@entity": ["failed conditional validation given value of field 'algorithm'"],
        rsa_public_key: message,
      });
    }
  });

  test("key and secret are generated when absent; an unknown algorithm is refused", async () => {
    const made = await admin(w.tg, "POST", `/consumers/${carol.id}/jwt`, {});
    expect(made.key).toMatch(/^[0-9a-f]{32}$/);
    expect(made.secret).toMatch(/^[0-9a-f]{32}$/);
    expect(made.algorithm).toBe("HS256");
    const res = await w.tg.admin(`/consumers/${carol.id}/jwt`, {
      method: "POST",
      body: { algorithm: "HS1" },
    });
    expect(res.status).toBe(400);
    expect(Object.keys((await res.json()).fields)).toEqual(["algorithm"]);
    await admin(w.tg, "DELETE", `/jwts/${made.id}`);
  });
});
