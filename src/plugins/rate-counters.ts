// Node-local rate-limit counters (rate-limiting's `local` policy), shared by every proxy worker thread of the
// node: one table in a SharedArrayBuffer (Kong's shared dict), so a limit of 10/s on a 4-worker node admits
// 10, not 40. A request's windows are read, checked and counted under one lock, so no worker can slip in
// between. Keys are Kong's strings, stored as two 32-bit hashes (a false match needs a 64-bit collision).
import { decide, type RateCounters, type RateUsage, type RateWindow } from "../schemas/rate-windows.ts";

/** Kong's counter key: `ratelimit:<route_id>:<service_id>:<identifier>:<window start ms>:<period>`. */
export function counterKey(window: RateWindow, start = window.start): string {
  return `ratelimit:${window.routeId}:${window.serviceId}:${window.identifier}:${start}:${window.period}`;
}

/** Two independent 32-bit hashes of a counter key (the second never 0: 0 marks a free slot's words). */
function keyHashes(key: string): [number, number] {
  return [Bun.hash.murmur32v3(key, 1) >>> 0, Bun.hash.murmur32v3(key, 2) >>> 0 || 1];
}

/** Slots of the default table (16 bytes each: 4 MiB), about Kong's 12 MiB shared dict for these counters. */
export const DEFAULT_COUNTER_SLOTS = 1 << 18;

/** Per slot: two hash words, the count, and the expiry (Unix seconds; 0 = never used). */
const WORDS = 4;
/** Header words: the lock, and the Unix second of the last compaction. */
const HEADER = 4;
/** A probe longer than this compacts the table (expired slots lengthen every probe that passes them). */
const LONG_PROBE = 32;
/** A lock held this long has a dead holder (a worker ended mid-step); it is taken over. */
const LOCK_STALE_MS = 250;

/** Thrown when the table has no room left for a new counter. */
export class CountersFull extends Error {}

export class SharedCounters implements RateCounters {
  readonly buffer: SharedArrayBuffer;
  readonly #lock: Int32Array;
  /** Header words as unsigned: [1] is the Unix second of the last compaction. */
  readonly #meta: Uint32Array;
  readonly #slots: Uint32Array;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #hashes = new WeakMap<RateWindow, readonly number[]>();
  /** What the last #find saw (see there). */
  #foundSlot = -1;
  #foundFree = -1;
  #probes = 0;

  /** A new, empty table's memory (to share with worker threads). */
  static allocate(slots = DEFAULT_COUNTER_SLOTS): SharedArrayBuffer {
    return new SharedArrayBuffer((HEADER + slots * WORDS) * 4);
  }

  constructor(buffer: SharedArrayBuffer = SharedCounters.allocate(), now: () => number = Date.now) {
    this.buffer = buffer;
    this.#lock = new Int32Array(buffer, 0, HEADER);
    this.#meta = new Uint32Array(buffer, 0, HEADER);
    this.#slots = new Uint32Array(buffer, HEADER * 4);
    this.#capacity = this.#slots.length / WORDS;
    this.#now = now;
  }

  take(windows: readonly RateWindow[], now = this.#now()): RateUsage {
    const nowSeconds = Math.floor(now / 1000);
    const only = windows.length === 1 ? windows[0]! : undefined;
    if (only !== undefined && only.previous === undefined) {
      const used = this.#takeOne(only, nowSeconds);
      return { admitted: used < only.limit, usage: [used] };
    }
    const current: number[] = [];
    const previous: number[] = [];
    const hashes = windows.flatMap(this.#hashesOf);
    this.#acquire();
    try {
      let h = 0;
      for (const window of windows) {
        current.push(this.#read(hashes[h]!, hashes[h + 1]!, nowSeconds));
        h += 2;
        if (window.previous) {
          previous.push(this.#read(hashes[h]!, hashes[h + 1]!, nowSeconds));
          h += 2;
        } else previous.push(0);
      }
      const result = decide(windows, current, previous);
      if (result.admitted) {
        h = 0;
        for (const window of windows) {
          this.#find(hashes[h]!, hashes[h + 1]!, nowSeconds);
          this.#increment(hashes[h]!, hashes[h + 1]!, nowSeconds, window.ttl);
          h += window.previous ? 4 : 2;
        }
      }
      return result;
    } finally {
      this.#release();
    }
  }

  /** RateCounters.takeOne: one fixed window, its usage before this request (admitted when below the limit). */
  takeOne(window: RateWindow, now = this.#now()): number {
    return this.#takeOne(window, Math.floor(now / 1000));
  }

  /**
   * One fixed window (rate-limiting with one period, the usual case): the key is looked up once, read, and
   * counted in the slot found — the same decision as `decide`, without its lists. Returns the usage before.
   */
  #takeOne(window: RateWindow, nowSeconds: number): number {
    const hashes = this.#hashesOf(window);
    const h1 = hashes[0]!;
    const h2 = hashes[1]!;
    this.#acquire();
    try {
      this.#find(h1, h2, nowSeconds);
      const slot = this.#foundSlot;
      const base = slot * WORDS;
      const used = slot >= 0 && this.#slots[base + 3]! > nowSeconds ? this.#slots[base + 2]! : 0;
      if (used < window.limit) this.#increment(h1, h2, nowSeconds, window.ttl);
      return used;
    } finally {
      this.#release();
    }
  }

  /**
   * A window's key hashes (its previous window's follow for sliding windows). Computed once per window object:
   * the rate-limiting plugin hands the same frozen windows to every request of a second.
   */
  readonly #hashesOf = (window: RateWindow): readonly number[] => {
    let hashes = this.#hashes.get(window);
    if (hashes === undefined) {
      hashes = keyHashes(counterKey(window));
      if (window.previous) hashes = [...hashes, ...keyHashes(counterKey(window, window.previous.start))];
      // Only frozen windows can be handed again unchanged; a fresh one per request would only fill the map.
      if (Object.isFrozen(window)) this.#hashes.set(window, hashes);
    }
    return hashes;
  };

  /**
   * Looks the key up: #foundSlot is the slot holding it (-1: absent), #foundFree where it would go (-1: no
   * room), #probes the slots passed. Fields rather than a returned object: no allocation per lookup (every
   * caller holds the lock and reads them at once).
   */
  #find(h1: number, h2: number, nowSeconds: number): void {
    const slots = this.#slots;
    let index = ((h1 ^ (h2 >>> 7)) >>> 0) % this.#capacity;
    let free = -1;
    for (let probes = 0; probes < this.#capacity; probes++) {
      const base = index * WORDS;
      const expires = slots[base + 3]!;
      if (expires === 0) {
        this.#found(-1, free >= 0 ? free : index, probes);
        return;
      }
      if (slots[base] === h1 && slots[base + 1] === h2) {
        this.#found(index, free, probes);
        return;
      }
      if (free < 0 && expires <= nowSeconds) free = index;
      index = index + 1 === this.#capacity ? 0 : index + 1;
    }
    this.#found(-1, free, this.#capacity);
  }

  #found(slot: number, free: number, probes: number): void {
    this.#foundSlot = slot;
    this.#foundFree = free;
    this.#probes = probes;
  }

  #read(h1: number, h2: number, nowSeconds: number): number {
    this.#find(h1, h2, nowSeconds);
    const slot = this.#foundSlot;
    if (slot < 0) return 0;
    const base = slot * WORDS;
    return this.#slots[base + 3]! > nowSeconds ? this.#slots[base + 2]! : 0;
  }

  /** Counts one hit of the key that #find has just looked up (compacting first if its probe was long). */
  #increment(h1: number, h2: number, nowSeconds: number, ttl: number): void {
    if (this.#probes > LONG_PROBE && this.#meta[1] !== nowSeconds) {
      this.#compact(nowSeconds);
      this.#find(h1, h2, nowSeconds);
    }
    const slots = this.#slots;
    if (this.#foundSlot >= 0) {
      const base = this.#foundSlot * WORDS;
      if (slots[base + 3]! > nowSeconds) slots[base + 2]!++;
      else {
        // Its lifetime is over: Kong's counter would have expired and started again.
        slots[base + 2] = 1;
        slots[base + 3] = nowSeconds + ttl;
      }
      return;
    }
    if (this.#foundFree < 0)
      throw new CountersFull(`the node's rate-limit counters are full (${this.#capacity} slots)`);
    const base = this.#foundFree * WORDS;
    slots[base] = h1;
    slots[base + 1] = h2;
    slots[base + 2] = 1;
    slots[base + 3] = nowSeconds + ttl;
  }

  /** Rewrites the table with only its live counters (expired slots otherwise pile up in probe chains). */
  #compact(nowSeconds: number): void {
    const slots = this.#slots;
    const live: number[] = [];
    for (let i = 0; i < this.#capacity; i++) {
      const base = i * WORDS;
      if (slots[base + 3]! > nowSeconds)
        live.push(slots[base]!, slots[base + 1]!, slots[base + 2]!, slots[base + 3]!);
    }
    slots.fill(0);
    for (let i = 0; i < live.length; i += WORDS) {
      this.#find(live[i]!, live[i + 1]!, nowSeconds);
      slots.set(live.slice(i, i + WORDS), this.#foundFree * WORDS);
    }
    this.#meta[1] = nowSeconds;
  }

  /** Bytes each counter takes. */
  static readonly SLOT_BYTES = WORDS * 4;

  /** Live counters (for tests and metrics). */
  get size(): number {
    const nowSeconds = Math.floor(this.#now() / 1000);
    let n = 0;
    for (let i = 0; i < this.#capacity; i++) if (this.#slots[i * WORDS + 3]! > nowSeconds) n++;
    return n;
  }

  // A three-state mutex (0 free, 1 held, 2 held with waiters) on the table's first word.
  #acquire(): void {
    const lock = this.#lock;
    let state = Atomics.compareExchange(lock, 0, 0, 1);
    if (state === 0) return;
    const since = performance.now();
    do {
      if (state === 2 || Atomics.compareExchange(lock, 0, 1, 2) !== 0) {
        if (
          Atomics.wait(lock, 0, 2, LOCK_STALE_MS) === "timed-out" &&
          performance.now() - since >= LOCK_STALE_MS
        ) {
          Atomics.store(lock, 0, 2);
          return;
        }
      }
      state = Atomics.compareExchange(lock, 0, 0, 2);
    } while (state !== 0);
  }

  #release(): void {
    if (Atomics.sub(this.#lock, 0, 1) !== 1) {
      Atomics.store(this.#lock, 0, 0);
      Atomics.notify(this.#lock, 0, 1);
    }
  }
}
