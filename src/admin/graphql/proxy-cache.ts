// proxy-cache's admin operations in GraphQL, the same ones as REST's /proxy-cache endpoints (proxy-cache.ts):
// `proxyCacheEntry(key, pluginId)` (GET), `purgeProxyCache(key, pluginId)` (DELETE of a key: true for REST's
// 204, false for its 404) and `purgeProxyCaches` (DELETE /proxy-cache). A pluginId that names no proxy-cache
// plugin is Kong's not-found error (REST: a bare 404); one that is no UUID, its invalid-primary-key error.
import { GatewayError } from "../../errors.ts";
import type { CacheEntryView } from "../../schemas/proxy-cache-admin.ts";
import {
  type CacheScope,
  cacheEntry,
  purgeAllCaches,
  purgeCacheKey,
  UnknownCachePlugin,
} from "../proxy-cache.ts";
import { builder } from "./builder.ts";
import { JsonScalar } from "./json.ts";

const ProxyCacheEntry = builder.objectRef<CacheEntryView>("ProxyCacheEntry").implement({
  description: "A response proxy-cache holds (REST: `GET /proxy-cache/{key}`, Kong's stored object).",
  fields: (t) => ({
    status: t.exposeInt("status"),
    headers: t.field({
      type: JsonScalar,
      description: "The headers the miss answered with, by name (a repeated one as a list).",
      resolve: (entry) => entry.headers,
    }),
    body: t.exposeString("body", { description: "The body, as UTF-8 text." }),
    bodyLen: t.exposeInt("body_len", { description: "The body's length in bytes." }),
    timestamp: t.exposeInt("timestamp", { description: "When it was stored, Unix seconds." }),
    ttl: t.exposeInt("ttl", { description: "Seconds it is fresh for." }),
    version: t.exposeInt("version", { description: "Kong's cache format version." }),
  }),
});

/** Runs `work` for one plugin or all; an id naming no proxy-cache plugin becomes Kong's not-found error. */
async function scoped<T>(
  id: string | number | null | undefined,
  work: (scope: CacheScope) => Promise<T>,
): Promise<T> {
  const pluginId = id === null || id === undefined ? undefined : String(id);
  try {
    return await work({ pluginId });
  } catch (error) {
    if (!(error instanceof UnknownCachePlugin)) throw error;
    throw new GatewayError("NOT_FOUND", `could not find the entity with primary key '{id="${pluginId}"}'`, {
      id: pluginId,
    });
  }
}

builder.queryField("proxyCacheEntry", (t) =>
  t.field({
    type: ProxyCacheEntry,
    nullable: true,
    description:
      "The response cached under `key` in any proxy worker of this node — in one proxy-cache plugin's memory " +
      "with `pluginId`, else in any's; null when none holds it (REST: `GET /proxy-cache[/{plugin}/caches]/{key}`).",
    args: { key: t.arg.string({ required: true }), pluginId: t.arg.id() },
    resolve: (_root, { key, pluginId }, ctx) =>
      scoped(pluginId, (scope) => cacheEntry(ctx.admin, key, scope)),
  }),
);

builder.mutationFields((t) => ({
  purgeProxyCache: t.boolean({
    description:
      "Drops the response cached under `key` in every proxy worker of this node (within one plugin's memory " +
      "with `pluginId`); false when no cache held it (REST: `DELETE /proxy-cache[/{plugin}/caches]/{key}`).",
    args: { key: t.arg.string({ required: true }), pluginId: t.arg.id() },
    resolve: (_root, { key, pluginId }, ctx) =>
      scoped(pluginId, (scope) => purgeCacheKey(ctx.admin, key, scope)),
  }),
  purgeProxyCaches: t.boolean({
    description:
      "Empties every proxy-cache plugin's memory in every proxy worker (REST: `DELETE /proxy-cache`).",
    resolve: async (_root, _args, ctx) => {
      await purgeAllCaches(ctx.admin);
      return true;
    },
  }),
}));
