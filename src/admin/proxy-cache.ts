// Kong's proxy-cache admin operations (kong/plugins/proxy-cache/api.lua), shared by REST and GraphQL so the two
// agree. Which memory to look in comes from the configured proxy-cache plugins (each names a dictionary);
// the entries themselves live in every proxy worker's own memory, so each command goes to all of them.
import { GatewayError } from "../errors.ts";
import { isUuid } from "../schemas/common.ts";
import type { Plugin } from "../schemas/plugins.ts";
import type { CacheEntryView } from "../schemas/proxy-cache-admin.ts";
import type { AdminContext } from "./context.ts";

const PROXY_CACHE = "proxy-cache";
/** The schema's default `memory.dictionary_name`. */
const DEFAULT_DICTIONARY = "kong_db_cache";

/** Every proxy-cache plugin (enabled or not, as Kong's), or the one `pluginId` names. */
export type CacheScope = { pluginId?: string | undefined };

/** `pluginId` names no proxy-cache plugin: Kong answers 404. */
export class UnknownCachePlugin extends Error {}

function dictionaryOf(plugin: Plugin): string {
  const memory = (plugin.config as { memory?: { dictionary_name?: unknown } }).memory;
  return typeof memory?.dictionary_name === "string" ? memory.dictionary_name : DEFAULT_DICTIONARY;
}

/** The dictionaries to look in: the plugin's, or every proxy-cache plugin's (each name once). */
async function dictionaries(context: AdminContext, scope: CacheScope): Promise<string[]> {
  const plugins = context.store.entity("plugins");
  if (scope.pluginId === undefined) {
    const all = (await plugins.all()).filter((p) => p.name === PROXY_CACHE);
    return [...new Set(all.map(dictionaryOf))];
  }
  // Kong selects the plugin by primary key, which must be a UUID.
  if (!isUuid(scope.pluginId))
    throw new GatewayError("INVALID_PRIMARY_KEY", `invalid primary key: '{id="expected a valid UUID"}'`, {
      id: "expected a valid UUID",
    });
  const plugin = await plugins.get(scope.pluginId.toLowerCase());
  if (plugin === null || plugin.name !== PROXY_CACHE) throw new UnknownCachePlugin(scope.pluginId);
  return [dictionaryOf(plugin)];
}

/** The entry stored under `key`, from whichever worker holds it (the freshest if several do); null if none. */
export async function cacheEntry(
  context: AdminContext,
  key: string,
  scope: CacheScope = {},
): Promise<CacheEntryView | null> {
  const replies = await context.proxyCache({
    op: "fetch",
    dictionaries: await dictionaries(context, scope),
    key,
  });
  let best: CacheEntryView | null = null;
  for (const { entry } of replies)
    if (entry !== null && (best === null || entry.timestamp > best.timestamp)) best = entry;
  return best;
}

/** Drops `key` in every worker; true when some cache held it (Kong: 204), false when none did (404). */
export async function purgeCacheKey(
  context: AdminContext,
  key: string,
  scope: CacheScope = {},
): Promise<boolean> {
  const replies = await context.proxyCache({
    op: "purge",
    dictionaries: await dictionaries(context, scope),
    key,
  });
  return replies.some((reply) => reply.found);
}

/** Empties every proxy-cache plugin's memory in every worker (Kong: 204, even with nothing to purge). */
export async function purgeAllCaches(context: AdminContext): Promise<void> {
  await context.proxyCache({ op: "flush", dictionaries: await dictionaries(context, {}) });
}
