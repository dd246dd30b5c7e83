// basic-auth: `Authorization: Basic base64(username:password)` against consumers' basic-auth credentials.
// Passwords are stored as Bun.password hashes, which are deliberately slow to check; verified
// (hash, password) pairs are remembered in a bounded cache so a busy route does not pay a hash per request,
// and failed pairs too, so a client repeating a wrong password cannot burn the CPU.

import type { BasicAuthCredential } from "../../schemas/credentials.ts";
import { failOrAnonymous, satisfiedByAnotherPlugin, setConsumer } from "../authenticate.ts";
import { definePlugin } from "../contract.ts";
import { type BasicAuthConfig, basicAuthConfig } from "./schema.ts";

const CACHE_LIMIT = 10_000;
const verified = new Map<string, boolean>();

async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const key = `${hash}\0${new Bun.CryptoHasher("sha256").update(password).digest("hex")}`;
  const known = verified.get(key);
  if (known !== undefined) return known;
  let ok = false;
  try {
    ok = await Bun.password.verify(password, hash);
  } catch {
    ok = false;
  }
  if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value as string);
  verified.set(key, ok);
  return ok;
}

/** `Basic dXNlcjpwYXNz` → {username, password}; null when absent or malformed. */
export function parseBasicAuthorization(value: string | null): { username: string; password: string } | null {
  if (value === null) return null;
  const match = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export const basicAuth = definePlugin<BasicAuthConfig>({
  name: "basic-auth",
  priority: 1100,
  version: "1.0.0",
  config: basicAuthConfig,
  // Authentication identifies the consumer, so it cannot be scoped to one (Kong's no_consumer).
  scoping: { consumer: false },
  async access(ctx, config) {
    if (satisfiedByAnotherPlugin(ctx, config.anonymous)) return undefined;
    // Kong answers every failure the same way (no hint whether the user or the password was wrong).
    const fail = () =>
      failOrAnonymous(ctx, config.anonymous, {
        status: 401,
        message: "Unauthorized",
        headers: { "www-authenticate": `Basic realm="${config.realm}"` },
      });
    // Kong reads Proxy-Authorization first and falls back to Authorization when it names no known user, so
    // a client can authenticate to the gateway and still send its own Authorization to the upstream.
    let supplied: { username: string; password: string } | null = null;
    let credential: BasicAuthCredential | undefined;
    for (const name of ["proxy-authorization", "authorization"]) {
      const raw = ctx.request.headers.get(name);
      if (raw === null) continue;
      if (config.hide_credentials) ctx.upstreamHeaders.delete(name);
      supplied = parseBasicAuthorization(raw);
      credential = supplied ? ctx.credentials.basicAuth(supplied.username) : undefined;
      if (credential) break;
    }
    const consumer = credential ? ctx.credentials.consumer(credential.consumer.id) : undefined;
    if (
      !supplied ||
      !credential ||
      !consumer ||
      !(await verifyPassword(supplied.password, credential.password))
    )
      return fail();
    setConsumer(
      ctx,
      consumer,
      { id: credential.id, identifier: credential.username, consumerId: consumer.id },
      false,
    );
    return undefined;
  },
});
