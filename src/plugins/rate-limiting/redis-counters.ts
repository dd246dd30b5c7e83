// rate-limiting's `redis` policy. With sync_rate -1 (Kong's default) each request is one script run in
// Redis: it reads every window and counts the request in all of them only when all have room — atomic, so
// concurrent requests through any number of nodes never read a count another is about to change (Kong
// reads, then increments: its most reported rate-limiting bug, #5311). With sync_rate > 0 (Kong's batching)
// counts are kept here and pushed to Redis every sync_rate seconds, trading accuracy for round trips.
import { decide, type RateCounters, type RateUsage, type RateWindow } from "../../schemas/rate-windows.ts";
import { counterKey } from "../rate-counters.ts";
import type { RedisConnection } from "./redis-connection.ts";

/**
 * KEYS: the current windows' counters, then (sliding windows) the previous windows' counters.
 * ARGV: window count, then per window: limit, ttl seconds, previous-window weight (0: fixed window).
 * Returns: 1 when admitted (else 0), each window's usage as a string (Lua numbers would be truncated), then
 * each window's own count (for sliding windows, whose usage also holds the previous window's share).
 */
const TAKE_SCRIPT = `
local n = tonumber(ARGV[1])
local usage = {}
local counts = {}
local admitted = true
local with_previous = #KEYS > n
for i = 1, n do
  local limit = tonumber(ARGV[2 + (i - 1) * 3])
  local weight = tonumber(ARGV[4 + (i - 1) * 3])
  local used = tonumber(redis.call("GET", KEYS[i]) or "0")
  counts[i] = used
  if with_previous and weight > 0 then
    used = used + tonumber(redis.call("GET", KEYS[n + i]) or "0") * weight
  end
  usage[i] = tostring(used)
  if used >= limit then admitted = false end
end
if admitted then
  for i = 1, n do
    if redis.call("INCR", KEYS[i]) == 1 then
      redis.call("EXPIRE", KEYS[i], tonumber(ARGV[3 + (i - 1) * 3]))
    end
  end
end
for i = 1, n do usage[n + i] = counts[i] end
return {admitted and 1 or 0, unpack(usage)}
`;

/** Adds a pushed delta to a counter, setting its lifetime when the push created it. Returns the new count. */
const PUSH_SCRIPT = `
local value = redis.call("INCRBY", KEYS[1], tonumber(ARGV[1]))
if value == tonumber(ARGV[1]) then redis.call("EXPIRE", KEYS[1], tonumber(ARGV[2])) end
return value
`;

/** A Lua script run by its SHA1, loaded again when Redis has forgotten it (a restart, SCRIPT FLUSH). */
class Script {
  readonly #source: string;
  /** Hashed on first use: every start would otherwise hash both scripts for nodes that never use Redis. */
  #sha: string | undefined;

  constructor(source: string) {
    this.#source = source;
  }

  async run(connection: RedisConnection, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    this.#sha ??= new Bun.CryptoHasher("sha1").update(this.#source).digest("hex");
    try {
      return await connection.send("EVALSHA", [this.#sha, ...tail]);
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return connection.send("EVAL", [this.#source, ...tail]);
    }
  }
}

const take = new Script(TAKE_SCRIPT);
const push = new Script(PUSH_SCRIPT);

function scriptArgs(windows: readonly RateWindow[]): { keys: string[]; args: string[] } {
  const keys = windows.map((w) => counterKey(w));
  if (windows.some((w) => w.previous)) for (const w of windows) keys.push(counterKey(w, w.previous?.start));
  const args = [String(windows.length)];
  for (const w of windows) args.push(String(w.limit), String(w.ttl), String(w.previous?.weight ?? 0));
  return { keys, args };
}

/** sync_rate -1: one atomic script per request. */
export class RedisCounters implements RateCounters {
  readonly #connection: RedisConnection;

  constructor(connection: RedisConnection) {
    this.#connection = connection;
  }

  async take(windows: readonly RateWindow[]): Promise<RateUsage> {
    const { keys, args } = scriptArgs(windows);
    const reply = (await take.run(this.#connection, keys, args)) as [number, ...(string | number)[]];
    const n = windows.length;
    const usage = reply.slice(1, 1 + n).map(Number);
    const admitted = reply[0] === 1;
    if (!windows.some((w) => w.previous)) return { admitted, usage };
    return { admitted, usage, current: reply.slice(1 + n).map(Number) };
  }
}

type Cached = { base: number; delta: number; expiresAt: number; ttl: number };

/**
 * sync_rate > 0: counts are decided here from the last count read from Redis plus what this node added since,
 * and the additions are pushed every `syncRate` seconds. A counter not seen yet (or whose window ended) is
 * read from Redis first. When a push fails, what was not pushed is dropped (as Kong clears its counters).
 */
export class BatchedRedisCounters implements RateCounters {
  readonly #connection: RedisConnection;
  readonly #syncMs: number;
  readonly #log: (line: string) => void;
  readonly #cache = new Map<string, Cached>();
  #timer: Timer | null = null;
  #closed = false;

  constructor(connection: RedisConnection, syncRate: number, log: (line: string) => void) {
    this.#connection = connection;
    this.#syncMs = syncRate * 1000;
    this.#log = log;
  }

  take(windows: readonly RateWindow[]): RateUsage | Promise<RateUsage> {
    const now = Date.now();
    const keys = windows.map((w) => counterKey(w));
    const previousKeys = windows.map((w) => (w.previous ? counterKey(w, w.previous.start) : null));
    const missing = [...keys, ...previousKeys].filter(
      (key): key is string => key !== null && !this.#fresh(key, now),
    );
    if (missing.length === 0) return this.#decide(windows, keys, previousKeys);
    return this.#load(missing, windows, keys, now).then(() => this.#decide(windows, keys, previousKeys));
  }

  #fresh(key: string, now: number): boolean {
    const cached = this.#cache.get(key);
    return cached !== undefined && cached.expiresAt > now;
  }

  async #load(missing: string[], windows: readonly RateWindow[], keys: string[], now: number): Promise<void> {
    const values = (await this.#connection.send("MGET", missing)) as (string | null)[];
    missing.forEach((key, i) => {
      const window = windows[keys.indexOf(key)];
      const ttl = window?.ttl ?? 1;
      // Kept until the window can no longer count (the window's ttl from now is an upper bound).
      this.#cache.set(key, { base: Number(values[i] ?? 0), delta: 0, expiresAt: now + ttl * 1000, ttl });
    });
  }

  #decide(windows: readonly RateWindow[], keys: string[], previousKeys: (string | null)[]): RateUsage {
    const count = (key: string | null) => {
      const cached = key === null ? undefined : this.#cache.get(key);
      return cached === undefined ? 0 : cached.base + cached.delta;
    };
    const result = decide(windows, keys.map(count), previousKeys.map(count));
    if (result.admitted) {
      for (const key of keys) this.#cache.get(key)!.delta++;
      this.#schedule();
    }
    return result;
  }

  #schedule(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.sync().catch((error) => this.#log(`[rate-limiting] failed to sync counters to Redis: ${error}`));
    }, this.#syncMs);
  }

  /** Pushes what was counted here since the last push. */
  async sync(): Promise<void> {
    const pending = [...this.#cache].filter(([, c]) => c.delta > 0);
    const now = Date.now();
    for (const [key, cached] of this.#cache)
      if (cached.expiresAt <= now && cached.delta === 0) this.#cache.delete(key);
    try {
      await Promise.all(
        pending.map(async ([key, cached]) => {
          const delta = cached.delta;
          const value = Number(await push.run(this.#connection, [key], [String(delta), String(cached.ttl)]));
          cached.base = value;
          cached.delta -= delta;
        }),
      );
    } catch (error) {
      for (const [key] of pending) this.#cache.delete(key);
      throw error;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
  }
}
