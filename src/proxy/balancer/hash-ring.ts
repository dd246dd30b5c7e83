// Consistent hashing (Kong's consistent-hashing algorithm, Ketama-style): `slots` points on a 32-bit continuum,
// shared among the addresses in proportion to their weights, each point at crc32("<address key> <n>"). The
// addresses are sorted by key first, so every node builds the same ring from the same targets. A request's key
// is hashed with crc32 and served by the first point at or after it; points of unusable addresses are skipped
// (their requests move to the next address clockwise, the others stay where they were).

export type RingEntry = { key: string; weight: number };

export class HashRing<T extends RingEntry> {
  readonly #points: Uint32Array;
  readonly #owners: Int32Array;
  readonly #entries: T[];

  constructor(entries: readonly T[], slots: number) {
    this.#entries = entries
      .filter((e) => e.weight > 0)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const total = this.#entries.reduce((sum, e) => sum + e.weight, 0);
    const pairs: [number, number][] = [];
    this.#entries.forEach((entry, index) => {
      const count = Math.max(1, Math.round((slots * entry.weight) / total));
      for (let n = 0; n < count; n++) pairs.push([Bun.hash.crc32(`${entry.key} ${n}`), index]);
    });
    // Ties (rare) are broken by owner, so the order does not depend on insertion.
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.#points = Uint32Array.from(pairs, (p) => p[0]);
    this.#owners = Int32Array.from(pairs, (p) => p[1]);
  }

  get size(): number {
    return this.#points.length;
  }

  /** The entry serving `key` among those `usable` accepts, or null when none does. */
  pick(key: string, usable: (entry: T) => boolean): T | null {
    const points = this.#points;
    const n = points.length;
    if (n === 0) return null;
    const hash = Bun.hash.crc32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    const first = this.#entries[this.#owners[lo % n]!]!;
    if (usable(first)) return first;
    // Walk clockwise past unusable owners; each distinct owner is tested once.
    const seen = new Set<number>();
    for (let i = 0; i < n && seen.size < this.#entries.length; i++) {
      const owner = this.#owners[(lo + i) % n]!;
      if (seen.has(owner)) continue;
      seen.add(owner);
      const entry = this.#entries[owner]!;
      if (usable(entry)) return entry;
    }
    return null;
  }
}
