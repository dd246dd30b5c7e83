// jwt: a signed token (HS256/384/512 with the credential's secret, RS*/ES* with its public key) whose
// `iss` (key_claim_name) names a consumer's jwt credential. Signatures are checked with Web Crypto.
import type { JwtSecret } from "../../schemas/credentials.ts";
import { failOrAnonymous, satisfiedByAnotherPlugin, setConsumer } from "../authenticate.ts";
import { definePlugin, type PluginContext } from "../contract.ts";
import { type JwtConfig, jwtConfig } from "./schema.ts";

type Algorithm = JwtSecret["algorithm"];

const WEB_CRYPTO: Record<
  Algorithm,
  {
    key: RsaHashedImportParams | EcKeyImportParams | HmacImportParams;
    verify: AlgorithmIdentifier | EcdsaParams;
  }
> = {
  HS256: { key: { name: "HMAC", hash: "SHA-256" }, verify: "HMAC" },
  HS384: { key: { name: "HMAC", hash: "SHA-384" }, verify: "HMAC" },
  HS512: { key: { name: "HMAC", hash: "SHA-512" }, verify: "HMAC" },
  RS256: { key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: "RSASSA-PKCS1-v1_5" },
  RS384: { key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, verify: "RSASSA-PKCS1-v1_5" },
  RS512: { key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, verify: "RSASSA-PKCS1-v1_5" },
  ES256: { key: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
  ES384: { key: { name: "ECDSA", namedCurve: "P-384" }, verify: { name: "ECDSA", hash: "SHA-384" } },
};

/** Algorithms a token may name (Kong's parser list); anything else is a bad token, not a wrong algorithm. */
const SUPPORTED_ALGORITHMS = new Set([
  ...Object.keys(WEB_CRYPTO),
  "ES512",
  "PS256",
  "PS384",
  "PS512",
  "EdDSA",
]);

/** Imported keys per credential object (snapshot-scoped: a rotated credential is a new object). */
const keyCache = new WeakMap<JwtSecret, Map<string, Promise<CryptoKey>>>();

function importKey(secret: JwtSecret, base64Secret: boolean): Promise<CryptoKey> {
  let perSecret = keyCache.get(secret);
  if (!perSecret) {
    perSecret = new Map();
    keyCache.set(secret, perSecret);
  }
  const cacheKey = `${secret.algorithm}:${base64Secret}`;
  let key = perSecret.get(cacheKey);
  if (!key) {
    const params = WEB_CRYPTO[secret.algorithm];
    if (secret.algorithm.startsWith("HS")) {
      const raw = base64Secret ? Buffer.from(secret.secret, "base64") : Buffer.from(secret.secret, "utf8");
      key = crypto.subtle.importKey("raw", raw, params.key, false, ["verify"]);
    } else {
      const der = Buffer.from((secret.rsa_public_key ?? "").replace(/-----[^-]+-----|\s+/g, ""), "base64");
      key = crypto.subtle.importKey("spki", der, params.key, false, ["verify"]);
    }
    perSecret.set(cacheKey, key);
  }
  return key;
}

function base64UrlDecode(part: string): Buffer {
  return Buffer.from(part.replaceAll("-", "+").replaceAll("_", "/"), "base64");
}

type Decoded = {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signed: string;
  signature: Buffer;
};

function decode(token: string): Decoded | string {
  // Kong's parser: header and claims before the first two dots, the rest is the signature. Fewer parts, or
  // parts that are not JSON objects, are "invalid JSON"; a signature that is not base64url is refused after
  // the header was checked.
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0) return "invalid JSON";
  const [head, body, signature] = [
    token.slice(0, first),
    token.slice(first + 1, second),
    token.slice(second + 1),
  ];
  try {
    const header = JSON.parse(base64UrlDecode(head).toString("utf8"));
    const claims = JSON.parse(base64UrlDecode(body).toString("utf8"));
    if (typeof header !== "object" || header === null || typeof claims !== "object" || claims === null)
      return "invalid JSON";
    if (typeof header.alg !== "string" || !SUPPORTED_ALGORITHMS.has(header.alg)) return "invalid alg";
    if (!/^[A-Za-z0-9_-]*={0,2}$/.test(signature)) return "invalid signature";
    return { header, claims, signed: `${head}.${body}`, signature: base64UrlDecode(signature) };
  } catch {
    return "invalid JSON";
  }
}

/** Tokens from query parameters, cookies and headers; more than one distinct token is refused. */
function findTokens(ctx: PluginContext, config: JwtConfig): string[] {
  const tokens = new Set<string>();
  if (ctx.query.length > 1) {
    const params = new URLSearchParams(ctx.query);
    for (const name of config.uri_param_names) for (const v of params.getAll(name)) if (v) tokens.add(v);
  }
  if (config.cookie_names.length > 0) {
    const cookies = ctx.request.headers.get("cookie") ?? "";
    for (const pair of cookies.split(";")) {
      const eq = pair.indexOf("=");
      if (eq < 0) continue;
      if (config.cookie_names.includes(pair.slice(0, eq).trim())) tokens.add(pair.slice(eq + 1).trim());
    }
  }
  for (const name of config.header_names) {
    const value = ctx.request.headers.get(name);
    if (!value) continue;
    // Kong takes a token from a header only in the Bearer scheme, whatever the header's name.
    const bearer = /^\s*bearer\s+(\S+)\s*$/i.exec(value);
    if (bearer) tokens.add(bearer[1]!);
  }
  return [...tokens];
}

function verifyClaims(claims: Record<string, unknown>, config: JwtConfig): Record<string, string> | null {
  const errors: Record<string, string> = {};
  const now = Date.now() / 1000;
  for (const claim of config.claims_to_verify ?? []) {
    const value = claims[claim];
    if (value === undefined) errors[claim] = `must be a number`;
    else if (typeof value !== "number") errors[claim] = "must be a number";
    else if (claim === "exp" && value <= now) errors.exp = "token expired";
    else if (claim === "nbf" && value > now) errors.nbf = "token not valid yet";
  }
  if (Object.keys(errors).length > 0) return errors;
  // As Kong: checked only once the listed claims are fine, and a token without exp has no bounded life.
  if (config.maximum_expiration > 0) {
    const exp = claims.exp;
    if (typeof exp !== "number" || exp - now > config.maximum_expiration)
      return { exp: "exceeds maximum allowed expiration" };
  }
  return null;
}

export const jwt = definePlugin<JwtConfig>({
  name: "jwt",
  priority: 1450,
  version: "1.0.0",
  config: jwtConfig,
  // Authentication identifies the consumer, so it cannot be scoped to one (Kong's no_consumer).
  scoping: { consumer: false },
  async access(ctx, config) {
    if (!config.run_on_preflight && ctx.method === "OPTIONS") return undefined;
    if (satisfiedByAnotherPlugin(ctx, config.anonymous)) return undefined;
    // Kong's RFC 6750 challenges: a bare one when no token came, `error="invalid_token"` for a bad one.
    const base = config.realm ? `Bearer realm="${config.realm}"` : "Bearer";
    const invalid = config.realm ? `${base}, error="invalid_token"` : 'Bearer error="invalid_token"';
    const fail = (status: number, message: string | Record<string, unknown>, challenge = invalid) =>
      failOrAnonymous(ctx, config.anonymous, { status, message, headers: { "www-authenticate": challenge } });

    const tokens = findTokens(ctx, config);
    if (tokens.length === 0) return fail(401, "Unauthorized", base);
    if (tokens.length > 1) return fail(401, "Multiple tokens provided");
    const decoded = decode(tokens[0]!);
    if (typeof decoded === "string") return fail(401, `Bad token; ${decoded}`);

    const keyName = config.key_claim_name;
    const issuer = decoded.claims[keyName] ?? decoded.header[keyName];
    if (issuer === undefined) return fail(401, `No mandatory '${keyName}' in claims`);
    if (typeof issuer !== "string" || issuer === "") return fail(401, `Invalid '${keyName}' in claims`);
    const secret = ctx.credentials.jwtSecret(issuer);
    if (!secret) return fail(401, `No credentials found for given '${keyName}'`);
    const consumer = ctx.credentials.consumer(secret.consumer.id);
    if (!consumer) return fail(401, `No credentials found for given '${keyName}'`);
    if (decoded.header.alg !== secret.algorithm) return fail(403, "Invalid algorithm");

    let valid = false;
    try {
      const key = await importKey(secret, config.secret_is_base64);
      valid = await crypto.subtle.verify(
        WEB_CRYPTO[secret.algorithm].verify,
        key,
        new Uint8Array(decoded.signature),
        new TextEncoder().encode(decoded.signed),
      );
    } catch {
      valid = false;
    }
    if (!valid) return fail(401, "Invalid signature");
    const claimErrors = verifyClaims(decoded.claims, config);
    if (claimErrors) return fail(401, claimErrors);

    setConsumer(ctx, consumer, { id: secret.id, identifier: secret.key, consumerId: consumer.id }, false);
    return undefined;
  },
});
