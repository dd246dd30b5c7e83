// rate-limiting's per-second window cache (fake clock): the same frozen windows for every request of one
// identifier within a second, new ones when a second starts (so minute, hour… windows roll over exactly at
// their edges), a bound on the identifiers kept; and the shared counters counting such reused windows as
// they count fresh ones.
import { describe, expect, test } from "bun:test";
import { CountersFull, SharedCounters } from "../../src/plugins/rate-counters.ts";
import { FixedWindowCache } from "../../src/plugins/rate-limiting/window-cache.ts";
import { windowStart } from "../../src/plugins/rate-limiting/windows.ts";
import type { RatePeriod, RateWindow } from "../../src/schemas/rate-windows.ts";

const at = (iso: string) => Date.parse(iso);
const ZERO = "00000000-0000-0000-0000-000000000000";

function cacheOf(periods: RatePeriod[], max?: number) {
  let builds = 0;
  const cache = new FixedWindowCache((identifier, now) => {
    builds++;
    return periods.map((period) => ({
      routeId: ZERO,
      serviceId: ZERO,
      identifier,
      period,
      start: windowStart(period, now),
      ttl: 60,
      limit: 3,
    }));
  }, max);
  return { cache, builds: () => builds };
}

describe("FixedWindowCache", () => {
  test("one build per identifier and second; the same frozen list for every request of that second", () => {
    const { cache, builds } = cacheOf(["second", "minute"]);
    const now = at("2025-01-01T10:00:07Z");
    const first = cache.get("203.0.113.9", now);
    expect(cache.get("203.0.113.9", now)).toBe(first);
    expect(builds()).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first.every((w) => Object.isFrozen(w))).toBe(true);
    expect(first.map((w) => w.start)).toEqual([at("2025-01-01T10:00:07Z"), at("2025-01-01T10:00:00Z")]);
    const other = cache.get("198.51.100.1", now);
    expect(other).not.toBe(first);
    expect(other[0]!.identifier).toBe("198.51.100.1");
    expect(builds()).toBe(2);
  });

  test("a new second builds new windows: the minute window rolls over exactly at its edge", () => {
    const { cache, builds } = cacheOf(["second", "minute"]);
    const before = cache.get("c", at("2025-01-01T10:00:59Z"));
    const after = cache.get("c", at("2025-01-01T10:01:00Z"));
    expect(after).not.toBe(before);
    expect(builds()).toBe(2);
    expect(before.map((w) => w.start)).toEqual([at("2025-01-01T10:00:59Z"), at("2025-01-01T10:00:00Z")]);
    expect(after.map((w) => w.start)).toEqual([at("2025-01-01T10:01:00Z"), at("2025-01-01T10:01:00Z")]);
    // Going back to an earlier second (a clock step) builds again rather than reusing stale windows.
    const again = cache.get("c", at("2025-01-01T10:00:59Z"));
    expect(again).not.toBe(before);
    expect(again.map((w) => w.start)).toEqual(before.map((w) => w.start));
  });

  test("holds at most `max` identifiers, starting over when full", () => {
    const { cache, builds } = cacheOf(["second"], 2);
    const now = at("2025-01-01T00:00:00Z");
    const a = cache.get("a", now);
    cache.get("b", now);
    expect(builds()).toBe(2);
    cache.get("c", now);
    expect(builds()).toBe(3);
    // "a" was dropped when "c" came in: built again.
    expect(cache.get("a", now)).not.toBe(a);
    expect(builds()).toBe(4);
  });
});

describe("SharedCounters with reused windows", () => {
  const window = (identifier: string, start: number, limit: number): RateWindow =>
    Object.freeze({ routeId: ZERO, serviceId: ZERO, identifier, period: "second", start, ttl: 1, limit });

  test("the same frozen window counts every take, as fresh copies do, and keeps identifiers apart", () => {
    const now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(256), () => now);
    const a = window("a", now, 2);
    expect(counters.take([a])).toEqual({ admitted: true, usage: [0] });
    expect(counters.take([a])).toEqual({ admitted: true, usage: [1] });
    expect(counters.take([{ ...a }])).toEqual({ admitted: false, usage: [2] });
    expect(counters.take([a])).toEqual({ admitted: false, usage: [2] });
    expect(counters.take([window("b", now, 2)])).toEqual({ admitted: true, usage: [0] });
  });

  test("takeOne answers the usage before the request and counts it only when below the limit, as take does", () => {
    const now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(256), () => now);
    const a = window("a", now, 2);
    expect(counters.takeOne(a)).toBe(0);
    // The same counter as take([a]): both steps see each other's counts.
    expect(counters.take([a])).toEqual({ admitted: true, usage: [1] });
    expect(counters.takeOne(a, now)).toBe(2);
    expect(counters.takeOne(a, now)).toBe(2);
    expect(counters.take([a])).toEqual({ admitted: false, usage: [2] });
    // The next second is another window (and the clock passed in is the one read).
    const next = window("a", now + 1000, 2);
    expect(counters.takeOne(next, now + 1000)).toBe(0);
    expect(counters.takeOne(window("b", now, 2))).toBe(0);
  });

  test("takeOne on a full table throws, as take does (the plugin is then fault tolerant or answers 500)", () => {
    const now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(2), () => now);
    counters.takeOne(window("a", now, 5));
    counters.takeOne(window("b", now, 5));
    expect(() => counters.takeOne(window("c", now, 5))).toThrow(CountersFull);
  });

  test("several reused windows in one take are each counted under their own key", () => {
    const now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(256), () => now);
    const second = window("a", now, 5);
    const minute = Object.freeze({ ...second, period: "minute" as const, limit: 2, ttl: 60 });
    expect(counters.take([second, minute])).toEqual({ admitted: true, usage: [0, 0] });
    expect(counters.take([second, minute])).toEqual({ admitted: true, usage: [1, 1] });
    expect(counters.take([second, minute])).toEqual({ admitted: false, usage: [2, 2] });
    expect(counters.take([second])).toEqual({ admitted: true, usage: [2] });
  });
});
