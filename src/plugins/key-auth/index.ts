// key-auth: an API key in a header, the query string or the body identifies the consumer.
import { failOrAnonymous, safeEqual, satisfiedByAnotherPlugin, setConsumer } from "../authenticate.ts";
import type { PluginContext, PluginHooks } from "../contract.ts";
import type { KeyAuthConfig } from "./schema.ts";

type Found = { key: string; from: "header" | "query" | "body"; name: string };

function findInQuery(query: string, names: readonly string[]): Found | null {
  if (query.length <= 1) return null;
  const params = new URLSearchParams(query);
  for (const name of names) {
    const value = params.get(name);
    if (value !== null && value !== "") return { key: value, from: "query", name };
  }
  return null;
}

async function findInBody(ctx: PluginContext, names: readonly string[]): Promise<Found | null> {
  const type = (ctx.request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded" && type !== "application/json") return null;
  const text = await ctx.readBodyText();
  if (text === "") return null;
  let lookup: (name: string) => unknown;
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return null;
    }
    if (typeof parsed !== "object" || parsed === null) return null;
    lookup = (name) => (parsed as Record<string, unknown>)[name];
  } else {
    const params = new URLSearchParams(text);
    lookup = (name) => params.get(name);
  }
  for (const name of names) {
    const value = lookup(name);
    if (typeof value === "string" && value !== "") return { key: value, from: "body", name };
  }
  return null;
}

/** Removes one parameter from a raw query string, keeping every other byte as the client sent it. */
export function withoutQueryParam(query: string, name: string): string {
  const kept = query
    .slice(1)
    .split("&")
    .filter((part) => {
      const rawName = part.split("=", 1)[0]!;
      try {
        return decodeURIComponent(rawName.replaceAll("+", " ")) !== name;
      } catch {
        return true;
      }
    });
  return kept.length === 0 ? "" : `?${kept.join("&")}`;
}

export const keyAuth: PluginHooks<KeyAuthConfig> = {
  name: "key-auth",
  priority: 1250,
  async access(ctx, config) {
    if (!config.run_on_preflight && ctx.method === "OPTIONS") return undefined;
    if (satisfiedByAnotherPlugin(ctx, config.anonymous)) return undefined;

    let found: Found | null = null;
    if (config.key_in_header)
      for (const name of config.key_names) {
        const value = ctx.request.headers.get(name);
        if (value !== null && value !== "") {
          found = { key: value, from: "header", name };
          break;
        }
      }
    if (!found && config.key_in_query) found = findInQuery(ctx.query, config.key_names);
    if (!found && config.key_in_body) found = await findInBody(ctx, config.key_names);

    const challenge = { "www-authenticate": config.realm ? `Key realm="${config.realm}"` : "Key" };
    if (!found)
      return failOrAnonymous(ctx, config.anonymous, {
        status: 401,
        message: "No API key found in request",
        headers: challenge,
      });
    const entry = ctx.credentials.key(found.key);
    const consumer = entry ? ctx.credentials.consumer(entry.consumerId) : undefined;
    if (!entry || !consumer || !safeEqual(found.key, found.key))
      return failOrAnonymous(ctx, config.anonymous, {
        status: 401,
        message: "Invalid authentication credentials",
        headers: challenge,
      });

    if (config.hide_credentials) {
      if (found.from === "header") ctx.upstreamHeaders.delete(found.name);
      else if (found.from === "query") ctx.setUpstreamQuery(withoutQueryParam(ctx.query, found.name));
    }
    setConsumer(ctx, consumer, { id: entry.id, identifier: entry.id, consumerId: consumer.id }, false);
    return undefined;
  },
};
