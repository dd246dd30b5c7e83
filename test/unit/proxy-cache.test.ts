// proxy-cache's pure parts: Cache-Control directives, the resource TTL, Kong's exact content type match,
// the cache key's parts, the bounded LRU store, and the admin API's commands on it.
import { describe, expect, test } from "bun:test";
import { parseQuery } from "../../src/plugins/kong-request.ts";
import { answerCacheCommand } from "../../src/plugins/proxy-cache/commands.ts";
import {
  cacheKey,
  contentTypeMatches,
  parseDirectives,
  parseMediaType,
  resourceTtl,
} from "../../src/plugins/proxy-cache/rules.ts";
import {
  type CachedResponse,
  cachedResponse,
  dictionary,
  existingDictionary,
  MemoryStore,
} from "../../src/plugins/proxy-cache/store.ts";

const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");

describe("Cache-Control", () => {
  test("directives: lower-case names, numbers, quoted values, bare flags", () => {
    expect(Object.fromEntries(parseDirectives('Max-Age=60, no-cache, private="x", s-maxage=abc,,'))).toEqual({
      "max-age": 60,
      "no-cache": true,
      private: "x",
      "s-maxage": "abc",
    });
    expect(parseDirectives(null).size).toBe(0);
  });

  test("resource TTL: s-maxage, max-age, Expires, never negative", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(resourceTtl(parseDirectives("max-age=10, s-maxage=20"), null, now)).toBe(20);
    expect(resourceTtl(parseDirectives("max-age=10"), null, now)).toBe(10);
    expect(resourceTtl(parseDirectives(""), "Thu, 01 Jan 2026 00:01:00 GMT", now)).toBe(60);
    expect(resourceTtl(parseDirectives(""), "Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(resourceTtl(parseDirectives(""), "garbage", now)).toBe(0);
    expect(resourceTtl(parseDirectives(""), null, now)).toBe(0);
  });
});

describe("content types", () => {
  const accepted = ["text/plain", "application/json", "image/*", "text/html; charset=utf-8"].map(
    (t) => parseMediaType(t)!,
  );
  test("exact match, wildcards, parameters must be the same", () => {
    expect(contentTypeMatches("application/json", accepted)).toBe(true);
    expect(contentTypeMatches("Application/JSON", accepted)).toBe(true);
    expect(contentTypeMatches("application/json; charset=utf-8", accepted)).toBe(false);
    expect(contentTypeMatches("image/png", accepted)).toBe(true);
    expect(contentTypeMatches("text/html; charset=utf-8", accepted)).toBe(true);
    expect(contentTypeMatches("text/html", accepted)).toBe(false);
    expect(contentTypeMatches("nonsense", accepted)).toBe(false);
    expect(contentTypeMatches(null, accepted)).toBe(false);
    expect(contentTypeMatches("", accepted)).toBe(false);
  });
});

describe("cache key", () => {
  const base = {
    consumerId: null,
    routeId: "r1",
    method: "GET",
    uri: "GET /p",
    query: parseQuery("b=2&a=1&a=0&flag"),
    headers: new Headers({ "x-a": "1", "x-b": "2" }),
    varyQueryParams: null,
    varyHeaders: null,
  };
  test("prefix, all query arguments sorted (lists sorted too), no headers", () => {
    expect(cacheKey(base)).toBe(sha256("r1|GET|GET /p|a=0,1:b=2:flag|"));
    expect(cacheKey({ ...base, consumerId: "c1" })).toBe(sha256("c1:r1|GET|GET /p|a=0,1:b=2:flag|"));
    expect(cacheKey({ ...base, routeId: null })).toBe(sha256("default|GET|GET /p|a=0,1:b=2:flag|"));
  });
  test("vary lists pick arguments and headers in their order", () => {
    expect(
      cacheKey({ ...base, varyQueryParams: ["b", "missing"], varyHeaders: ["X-B", "x-a", "x-none"] }),
    ).toBe(sha256("r1|GET|GET /p|b=2|X-B=2:x-a=1"));
  });
});

describe("memory store", () => {
  const entry = (size: number, expiresAt = Number.MAX_SAFE_INTEGER): CachedResponse =>
    cachedResponse("k", {
      status: 200,
      headers: [],
      body: new Blob([new Uint8Array(size)]),
      timestamp: 0,
      ttl: 1,
      expiresAt,
    });
  test("least recently used entries go first; the byte count stays under the limit", () => {
    const store = new MemoryStore(100);
    store.store("a", entry(40));
    store.store("b", entry(40));
    store.fetch("a");
    store.store("c", entry(40));
    expect([
      store.fetch("a") !== undefined,
      store.fetch("b") !== undefined,
      store.fetch("c") !== undefined,
    ]).toEqual([true, false, true]);
    expect({ bytes: store.bytes, count: store.count }).toEqual({ bytes: 80, count: 2 });
    expect(store.store("huge", entry(101))).toBe(false);
    store.store("a", entry(10));
    expect(store.bytes).toBe(50);
  });
  test("expired entries are forgotten; purge and flush", () => {
    const store = new MemoryStore(100);
    store.store("old", entry(10, 1000));
    expect(store.fetch("old", 999)).toBeDefined();
    expect(store.fetch("old", 1000)).toBeUndefined();
    expect(store.bytes).toBe(0);
    store.store("x", entry(10));
    expect([store.purge("x"), store.purge("x")]).toEqual([true, false]);
    store.store("y", entry(10));
    store.flush();
    expect({ bytes: store.bytes, count: store.count }).toEqual({ bytes: 0, count: 0 });
  });
});

describe("admin commands on this thread's dictionaries", () => {
  const stored = (headers: [string, string][], expiresAt: number): CachedResponse =>
    cachedResponse("k", {
      status: 200,
      headers,
      body: new Blob(["héllo"]),
      timestamp: 1_700_000_000,
      ttl: 300,
      expiresAt,
    });
  const later = Date.now() + 60_000;

  test("fetch renders Kong's stored object: names capitalised, repeated headers as a list, body as text", async () => {
    const dict = dictionary("unit-fetch");
    dict.store(
      "k",
      stored(
        [
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
          ["x-one", "1"],
        ],
        later,
      ),
    );
    // A dictionary no plugin ever used is not created by looking.
    expect(
      await answerCacheCommand({ op: "fetch", dictionaries: ["unit-none", "unit-fetch"], key: "k" }),
    ).toEqual({
      found: true,
      entry: {
        status: 200,
        headers: { "Set-Cookie": ["a=1", "b=2"], "X-One": "1" },
        body: "héllo",
        body_len: 6,
        timestamp: 1_700_000_000,
        ttl: 300,
        version: 1,
      },
    });
    expect(existingDictionary("unit-none")).toBeUndefined();
    expect(await answerCacheCommand({ op: "fetch", dictionaries: ["unit-fetch"], key: "other" })).toEqual({
      found: false,
      entry: null,
    });
  });

  test("an expired entry is not found, not even by purge (which still drops it); flush empties", async () => {
    const dict = dictionary("unit-purge");
    dict.store("gone", stored([], Date.now() - 1));
    expect((await answerCacheCommand({ op: "fetch", dictionaries: ["unit-purge"], key: "gone" })).found).toBe(
      false,
    );
    expect((await answerCacheCommand({ op: "purge", dictionaries: ["unit-purge"], key: "gone" })).found).toBe(
      false,
    );
    expect(dict.count).toBe(0);
    dict.store("live", stored([], later));
    expect((await answerCacheCommand({ op: "purge", dictionaries: ["unit-purge"], key: "live" })).found).toBe(
      true,
    );
    dict.store("live", stored([], later));
    await answerCacheCommand({ op: "flush", dictionaries: ["unit-purge"] });
    expect(dict.count).toBe(0);
  });
});
