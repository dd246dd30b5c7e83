// proxy-cache's memory strategy: one bounded LRU store per dictionary name, per proxy worker. Module state, so
// each worker thread holds its own (as each of Kong's nginx workers reads one shared dict, here each worker
// fills its own copy: a response may be fetched once per worker before every worker has it). Bounded by bytes:
// the least recently used entries are dropped first, and a body over MAX_ENTRY_BYTES is never stored.

/** A cached response (Kong's cache object: status, headers, body, when it was stored, its TTL). */
export type CachedResponse = {
  status: number;
  /** The headers as stored (the admin API shows them; Age and the X-Cache headers as the miss had them). */
  headers: readonly (readonly [string, string])[];
  /**
   * The headers of every hit of this entry, built once: the stored ones without those a hit sets anew, then
   * Age (a placeholder each hit overwrites), X-Cache-Status: Hit, X-Cache-Key and the length. A hit's
   * Response copies them natively (a fraction of building headers from a list in JavaScript).
   */
  hitHeaders: Headers;
  /** The body: a Blob, so every hit's Response shares its bytes instead of copying them. */
  body: Blob;
  /** Epoch seconds when it was stored. */
  timestamp: number;
  /** The resource's TTL in seconds (cache_ttl, or from Cache-Control). */
  ttl: number;
  /** Epoch milliseconds after which the store forgets it (storage_ttl). */
  expiresAt: number;
  /** Bytes it is counted for. */
  size: number;
};

/** Stored headers a hit never replays: Kong's reset_res_header sets them anew on every hit. */
const REPLACED_ON_HIT = new Set(["age", "x-cache-status", "x-cache-key"]);

/** An entry stored under `key`, with what its hits need computed once: their headers and its size. */
export function cachedResponse(
  key: string,
  fields: Omit<CachedResponse, "hitHeaders" | "size">,
): CachedResponse {
  const { headers, body } = fields;
  const hitHeaders = new Headers();
  for (const [name, value] of headers) if (!REPLACED_ON_HIT.has(name)) hitHeaders.append(name, value);
  hitHeaders.set("age", "0");
  hitHeaders.set("X-Cache-Status", "Hit");
  hitHeaders.set("X-Cache-Key", key);
  // Bun sends the same length; declared here, the log phase knows the size without reading the body.
  if (body.size > 0) hitHeaders.set("content-length", String(body.size));
  return {
    ...fields,
    hitHeaders,
    size: body.size + headers.reduce((n, [k, v]) => n + k.length + v.length, 0),
  };
}

/** Bytes one worker keeps per dictionary. */
export const MAX_DICTIONARY_BYTES = 64 * 1024 * 1024;
/** The largest body stored. */
export const MAX_ENTRY_BYTES = 8 * 1024 * 1024;

export class MemoryStore {
  readonly #entries = new Map<string, CachedResponse>();
  #bytes = 0;

  constructor(private readonly limit: number) {}

  fetch(key: string, now = Date.now()): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) {
      this.#bytes -= entry.size;
      return undefined;
    }
    // Most recently used last.
    this.#entries.set(key, entry);
    return entry;
  }

  /** The entry without counting it as used (the admin API looking), or undefined when absent or expired. */
  peek(key: string, now = Date.now()): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    return entry === undefined || entry.expiresAt <= now ? undefined : entry;
  }

  store(key: string, entry: CachedResponse): boolean {
    if (entry.size > this.limit) return false;
    this.purge(key);
    this.#entries.set(key, entry);
    this.#bytes += entry.size;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.limit) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.size;
    }
    return true;
  }

  purge(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.size;
    return true;
  }

  flush(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get count(): number {
    return this.#entries.size;
  }
}

const dictionaries = new Map<string, MemoryStore>();

/** This worker's store for a dictionary name, if anything ever used it (the admin API never creates one). */
export function existingDictionary(name: string): MemoryStore | undefined {
  return dictionaries.get(name);
}

/** This worker's store for a dictionary name (created on first use). */
export function dictionary(name: string): MemoryStore {
  let store = dictionaries.get(name);
  if (store === undefined) {
    store = new MemoryStore(MAX_DICTIONARY_BYTES);
    dictionaries.set(name, store);
  }
  return store;
}
