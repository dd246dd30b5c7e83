// basic-auth: `Authorization: Basic base64(username:password)` against consumers' basic-auth credentials.
// Passwords are stored as Bun.password hashes, which are deliberately slow to check; verified
// (hash, password) pairs are remembered in a bounded cache so a busy route does not pay a hash per request,
// and failed pairs too, so a client repeating a wrong password cannot burn the CPU.
import { failOrAnonymous, satisfiedByAnotherPlugin, setConsumer } from "../authenticate.ts";
import type { PluginHooks } from "../contract.ts";
import type { BasicAuthConfig } from "./schema.ts";

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

export const basicAuth: PluginHooks<BasicAuthConfig> = {
  name: "basic-auth",
  priority: 1100,
  async access(ctx, config) {
    if (satisfiedByAnotherPlugin(ctx, config.anonymous)) return undefined;
    const challenge = { "www-authenticate": `Basic realm="${config.realm}"` };
    const headerName = ctx.request.headers.has("authorization") ? "authorization" : "proxy-authorization";
    const raw = ctx.request.headers.get(headerName);
    if (raw === null)
      return failOrAnonymous(ctx, config.anonymous, {
        status: 401,
        message: "Unauthorized",
        headers: challenge,
      });
    const supplied = parseBasicAuthorization(raw);
    const credential = supplied ? ctx.credentials.basicAuth(supplied.username) : undefined;
    const consumer = credential ? ctx.credentials.consumer(credential.consumer.id) : undefined;
    const ok =
      supplied && credential && consumer
        ? await verifyPassword(supplied.password, credential.password)
        : false;
    if (!ok || !credential || !consumer)
      return failOrAnonymous(ctx, config.anonymous, {
        status: 401,
        message: "Invalid authentication credentials",
        headers: challenge,
      });
    if (config.hide_credentials) ctx.upstreamHeaders.delete(headerName);
    setConsumer(
      ctx,
      consumer,
      { id: credential.id, identifier: credential.username, consumerId: consumer.id },
      false,
    );
    return undefined;
  },
};
