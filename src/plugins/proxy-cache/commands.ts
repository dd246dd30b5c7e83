// The admin API's commands on this thread's proxy-cache stores (Kong's /proxy-cache endpoints): each proxy
// worker answers for its own memory, and the admin combines the answers of all of them.
import type { CacheCommand, CacheEntryView, CacheReply } from "../../schemas/proxy-cache-admin.ts";
import { type CachedResponse, existingDictionary } from "./store.ts";

/** Kong's CACHE_VERSION, stored with every entry. */
const CACHE_VERSION = 1;

/** Asynchronous because a stored body is a Blob (read only when the admin API shows an entry). */
export async function answerCacheCommand(command: CacheCommand): Promise<CacheReply> {
  const stores = command.dictionaries.map(existingDictionary).filter((s) => s !== undefined);
  switch (command.op) {
    case "fetch":
      for (const store of stores) {
        const entry = store.peek(command.key);
        if (entry !== undefined) return { entry: await entryView(entry), found: true };
      }
      return { entry: null, found: false };
    case "purge": {
      let found = false;
      // An expired entry is dropped too, but as Kong's it does not count as found.
      for (const store of stores) {
        if (store.peek(command.key) !== undefined) found = true;
        store.purge(command.key);
      }
      return { entry: null, found };
    }
    case "flush":
      for (const store of stores) store.flush();
      return { entry: null, found: false };
  }
}

/**
 * A header name as Kong's stored object spells it. Kong keeps the names as sent (`X-Cache-Key`,
 * nginx's `Content-Type`); Bun hands them over in lower case, so each word is capitalised again.
 */
const spelled = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/** Kong's stored object: headers by name (a repeated one as a list), the body as text. */
async function entryView(entry: CachedResponse): Promise<CacheEntryView> {
  const headers: Record<string, string | string[]> = {};
  for (const [lower, value] of entry.headers) {
    const name = spelled(lower);
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  }
  return {
    status: entry.status,
    headers,
    body: await entry.body.text(),
    body_len: entry.body.size,
    timestamp: entry.timestamp,
    ttl: entry.ttl,
    version: CACHE_VERSION,
  };
}
