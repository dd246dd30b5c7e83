// Kong's proxy-cache admin endpoints (kong/plugins/proxy-cache/api.lua):
//   DELETE /proxy-cache                                  every proxy-cache plugin's memory emptied → 204
//   GET    /proxy-cache/{cache_key}                      the entry → 200, or 404 when no cache holds it
//   DELETE /proxy-cache/{cache_key}                      purged everywhere → 204, or 404
//   GET    /proxy-cache/{plugin_id}/caches/{cache_key}   the same within one plugin's memory; 404 when the
//   DELETE /proxy-cache/{plugin_id}/caches/{cache_key}   plugin does not exist (400 when the id is no UUID)
// Kong's 404s here have no body. Every proxy worker holds its own memory: each command reaches all of them.
import type { AdminContext } from "../context.ts";
import {
  type CacheScope,
  cacheEntry,
  purgeAllCaches,
  purgeCacheKey,
  UnknownCachePlugin,
} from "../proxy-cache.ts";
import { json, noContent } from "./http.ts";
import type { AdminRouter, Params } from "./router.ts";

const bare404 = () => new Response(null, { status: 404 });

/** Runs `work`; a plugin id that names no proxy-cache plugin is Kong's bare 404. */
async function orUnknownPlugin(work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UnknownCachePlugin) return bare404();
    throw error;
  }
}

export function registerProxyCacheEndpoints(router: AdminRouter, context: AdminContext): void {
  const get = (params: Params, scope: CacheScope) =>
    orUnknownPlugin(async () => {
      const entry = await cacheEntry(context, params.cache_key!, scope);
      return entry === null ? bare404() : json(entry);
    });
  const purge = (params: Params, scope: CacheScope) =>
    orUnknownPlugin(async () =>
      (await purgeCacheKey(context, params.cache_key!, scope)) ? noContent() : bare404(),
    );

  router.add("/proxy-cache", {
    DELETE: async () => {
      await purgeAllCaches(context);
      return noContent();
    },
  });
  router.add("/proxy-cache/:cache_key", {
    GET: (_request, params) => get(params, {}),
    DELETE: (_request, params) => purge(params, {}),
  });
  router.add("/proxy-cache/:plugin_id/caches/:cache_key", {
    GET: (_request, params) => get(params, { pluginId: params.plugin_id }),
    DELETE: (_request, params) => purge(params, { pluginId: params.plugin_id }),
  });
}
