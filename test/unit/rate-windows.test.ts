// rate-limiting's windows and counting rules, on a fake clock: Kong's UTC-aligned windows (calendar month and
// year), its reset arithmetic (constant 30-day months), the sliding estimate, and the in-process counters
// (atomic take, rejected requests not counted, Kong's key layout, lifetimes from the first hit).
import { describe, expect, test } from "bun:test";
import { CountersFull, counterKey, SharedCounters } from "../../src/plugins/rate-counters.ts";
import {
  fixedReset,
  nextWindowStart,
  previousWindowStart,
  slidingRetryAfter,
  WINDOW_SECONDS,
  windowStart,
} from "../../src/plugins/rate-limiting/windows.ts";
import { decide, type RatePeriod, type RateWindow } from "../../src/schemas/rate-windows.ts";

const at = (iso: string) => Date.parse(iso);

describe("window starts (UTC, Kong's get_timestamps)", () => {
  const now = at("2024-02-29T13:45:17.250Z");
  const cases: [RatePeriod, string][] = [
    ["second", "2024-02-29T13:45:17.000Z"],
    ["minute", "2024-02-29T13:45:00.000Z"],
    ["hour", "2024-02-29T13:00:00.000Z"],
    ["day", "2024-02-29T00:00:00.000Z"],
    ["month", "2024-02-01T00:00:00.000Z"],
    ["year", "2024-01-01T00:00:00.000Z"],
  ];
  for (const [period, expected] of cases)
    test(period, () => expect(new Date(windowStart(period, now)).toISOString()).toBe(expected));

  test("edges belong to the window they open", () => {
    expect(windowStart("minute", at("2024-03-01T00:00:00.000Z"))).toBe(at("2024-03-01T00:00:00.000Z"));
    expect(windowStart("minute", at("2024-02-29T23:59:59.999Z"))).toBe(at("2024-02-29T23:59:00.000Z"));
    expect(windowStart("month", at("2024-03-01T00:00:00.000Z"))).toBe(at("2024-03-01T00:00:00.000Z"));
    expect(windowStart("month", at("2024-02-29T23:59:59.999Z"))).toBe(at("2024-02-01T00:00:00.000Z"));
    expect(windowStart("year", at("2025-01-01T00:00:00.000Z"))).toBe(at("2025-01-01T00:00:00.000Z"));
    expect(windowStart("year", at("2024-12-31T23:59:59.999Z"))).toBe(at("2024-01-01T00:00:00.000Z"));
  });

  test("next and previous windows follow the calendar (28/29/31-day months, leap years)", () => {
    expect(nextWindowStart("month", at("2024-02-01T00:00:00Z"))).toBe(at("2024-03-01T00:00:00Z"));
    expect(nextWindowStart("month", at("2024-12-01T00:00:00Z"))).toBe(at("2025-01-01T00:00:00Z"));
    expect(previousWindowStart("month", at("2024-01-01T00:00:00Z"))).toBe(at("2023-12-01T00:00:00Z"));
    expect(previousWindowStart("month", at("2024-03-01T00:00:00Z"))).toBe(at("2024-02-01T00:00:00Z"));
    expect(nextWindowStart("year", at("2024-01-01T00:00:00Z")) - at("2024-01-01T00:00:00Z")).toBe(
      366 * 86_400_000,
    );
    expect(previousWindowStart("year", at("2024-01-01T00:00:00Z"))).toBe(at("2023-01-01T00:00:00Z"));
    expect(nextWindowStart("hour", at("2024-01-01T05:00:00Z"))).toBe(at("2024-01-01T06:00:00Z"));
    expect(previousWindowStart("second", 5000)).toBe(4000);
  });
});

describe("RateLimit-Reset (Kong's arithmetic, whole seconds, constant lengths)", () => {
  test("minute=5, sixth call at :20 → 40 (Kong's documented example)", () => {
    const now = at("2024-05-05T10:11:20.000Z");
    expect(fixedReset("minute", windowStart("minute", now), now)).toBe(40);
  });
  test("never below 1: the last second of a window still says 1", () => {
    const now = at("2024-05-05T10:11:59.000Z");
    expect(fixedReset("minute", windowStart("minute", now), now)).toBe(1);
    expect(fixedReset("second", windowStart("second", now), now)).toBe(1);
  });
  test("a month counts as 30 days, a year as 365 (Kong's EXPIRATION), whatever the calendar", () => {
    const now = at("2024-03-31T00:00:00.000Z"); // 30 days into March
    expect(fixedReset("month", windowStart("month", now), now)).toBe(1);
    const feb = at("2024-02-10T00:00:00.000Z");
    expect(fixedReset("month", windowStart("month", feb), feb)).toBe(WINDOW_SECONDS.month - 9 * 86400);
    const year = at("2024-12-31T00:00:00.000Z"); // day 366 of a leap year
    expect(fixedReset("year", windowStart("year", year), year)).toBe(1);
  });
});

describe("sliding windows", () => {
  const start = at("2024-05-05T10:11:00.000Z");
  test("rejected with room left in this window: wait until the previous share has decayed enough", () => {
    // limit 10, previous 10, current 5, 30 s in: usage 5 + 10 × 0.5 = 10 (full). Admitted again once
    // 10 × (1 − t/60) < 5, i.e. after t = 30 s: 0 s more, rounded up to at least 1.
    expect(slidingRetryAfter("minute", start, start + 30_000, { previous: 10, current: 5 }, 10)).toBe(1);
    // 12 s in: the previous share is 8; under 5 only after t = 30 s → 18 s.
    expect(slidingRetryAfter("minute", start, start + 12_000, { previous: 10, current: 5 }, 10)).toBe(18);
  });
  test("rejected by this window's own count: not before the next window, then its decay", () => {
    // current 10 of 10, 45 s in: 15 s to the next window, then 10 × (1 − t/60) < 10 for any t > 0 → 15 s.
    expect(slidingRetryAfter("minute", start, start + 45_000, { previous: 0, current: 10 }, 10)).toBe(15);
    // current 20 of 10: in the next window 20 × (1 − t/60) < 10 once t > 30 s → 15 + 30.
    expect(slidingRetryAfter("minute", start, start + 45_000, { previous: 0, current: 20 }, 10)).toBe(45);
  });
});

function window(period: RatePeriod, limit: number, previous?: RateWindow["previous"]): RateWindow {
  return {
    routeId: "00000000-0000-0000-0000-000000000000",
    serviceId: "00000000-0000-0000-0000-000000000000",
    identifier: "203.0.113.9",
    period,
    start: at("2025-01-01T00:00:00Z"),
    ttl: WINDOW_SECONDS[period],
    limit,
    previous,
  };
}

describe("decide", () => {
  test("admits while every window's usage is below its limit", () => {
    expect(decide([window("second", 2), window("minute", 5)], [1, 4], [0, 0])).toEqual({
      admitted: true,
      usage: [1, 4],
    });
    expect(decide([window("second", 2), window("minute", 5)], [2, 4], [0, 0]).admitted).toBe(false);
    expect(decide([window("second", 2), window("minute", 5)], [1, 5], [0, 0]).admitted).toBe(false);
  });
  test("fractional limits (Kong accepts any number > 0)", () => {
    expect(decide([window("second", 2.5)], [2], []).admitted).toBe(true);
    expect(decide([window("second", 2.5)], [3], []).admitted).toBe(false);
  });
  test("sliding: the previous window counts by its weight", () => {
    const w = window("minute", 10, { start: 0, weight: 0.25 });
    expect(decide([w], [7], [8])).toEqual({ admitted: true, usage: [9], current: [7] });
    expect(decide([w], [8], [8])).toEqual({ admitted: false, usage: [10], current: [8] });
  });
});

describe("the node's shared counters", () => {
  test("Kong's key layout", () => {
    expect(counterKey(window("minute", 5))).toBe(
      "ratelimit:00000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000:203.0.113.9:1735689600000:minute",
    );
  });

  test("counts admitted requests in every window; refused requests in none", () => {
    let now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(256), () => now);
    const windows = [window("second", 2), window("minute", 3)];
    expect(counters.take(windows)).toEqual({ admitted: true, usage: [0, 0] });
    expect(counters.take(windows)).toEqual({ admitted: true, usage: [1, 1] });
    // The second is full: refused, and the minute is not charged for it.
    expect(counters.take(windows)).toEqual({ admitted: false, usage: [2, 2] });
    expect(counters.take(windows)).toEqual({ admitted: false, usage: [2, 2] });
    // The next second's window is a new counter.
    now += 1000;
    const next = [{ ...windows[0]!, start: windows[0]!.start + 1000 }, windows[1]!];
    expect(counters.take(next)).toEqual({ admitted: true, usage: [0, 2] });
    expect(counters.take(next)).toEqual({ admitted: false, usage: [1, 3] });
  });

  test("a counter lives ttl seconds from its first hit, then reads as 0 (Kong's 30-day month too)", () => {
    let now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(256), () => now);
    const w = { ...window("minute", 100), ttl: 60 };
    counters.take([w]);
    counters.take([w]);
    now += 59_999;
    expect(counters.take([w]).usage).toEqual([2]);
    now += 1;
    expect(counters.take([w]).usage).toEqual([0]);
    expect(counters.take([w]).usage).toEqual([1]);
    now += 60_000;
    expect(counters.size).toBe(0);
  });

  test("expired counters make room; a table with no room left refuses to count (the caller is fault tolerant)", () => {
    let now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(8), () => now);
    const each = (i: number) => ({ ...window("second", 5), identifier: `client-${i}`, ttl: 1 });
    for (let i = 0; i < 8; i++) expect(counters.take([each(i)]).admitted).toBe(true);
    expect(() => counters.take([each(8)])).toThrow(CountersFull);
    // A second later every counter has expired: their slots are reused.
    now += 1000;
    for (let i = 8; i < 16; i++) expect(counters.take([each(i)]).admitted).toBe(true);
    expect(counters.size).toBe(8);
  });

  test("long probe chains of expired counters are compacted away", () => {
    let now = at("2025-01-01T00:00:00Z");
    const counters = new SharedCounters(SharedCounters.allocate(128), () => now);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++)
        expect(
          counters.take([{ ...window("second", 5), identifier: `r${round}-${i}`, ttl: 1 }]).admitted,
        ).toBe(true);
      now += 1000;
    }
    expect(counters.size).toBe(0);
  });

  test("threads sharing the table never over-admit (4 workers × 500 tries against a limit of 1,000)", async () => {
    const buffer = SharedCounters.allocate(1024);
    const source = `
      import { SharedCounters } from ${JSON.stringify(new URL("../../src/plugins/rate-counters.ts", import.meta.url).pathname)};
      self.onmessage = (event) => {
        const counters = new SharedCounters(event.data.buffer);
        let admitted = 0;
        for (let i = 0; i < 500; i++) if (counters.take([event.data.window]).admitted) admitted++;
        self.postMessage(admitted);
      };`;
    const file = `${import.meta.dir}/.shared-counters-worker-${process.pid}.ts`;
    await Bun.write(file, source);
    try {
      const w = { ...window("hour", 1000), start: Date.UTC(2025, 0, 1) };
      const results = await Promise.all(
        Array.from({ length: 4 }, () => {
          const worker = new Worker(file);
          return new Promise<number>((resolve) => {
            worker.onmessage = (event) => {
              resolve(event.data as number);
              worker.terminate();
            };
            worker.postMessage({ buffer, window: w });
          });
        }),
      );
      expect(results.reduce((a, b) => a + b, 0)).toBe(1000);
      expect(new SharedCounters(buffer).take([w])).toEqual({ admitted: false, usage: [1000] });
    } finally {
      await Bun.file(file).delete();
    }
  });

  test("sliding: the previous window's counter is read with its weight", () => {
    const now = at("2025-01-01T00:01:30Z");
    const counters = new SharedCounters(SharedCounters.allocate(256), () => now);
    const previous = { ...window("minute", 10), start: at("2025-01-01T00:00:00Z"), ttl: 180 };
    for (let i = 0; i < 8; i++) counters.take([previous]);
    const current = {
      ...window("minute", 10, { start: previous.start, weight: 0.5 }),
      start: at("2025-01-01T00:01:00Z"),
    };
    expect(counters.take([current])).toEqual({ admitted: true, usage: [4], current: [0] });
    for (let i = 0; i < 5; i++) counters.take([current]);
    expect(counters.take([current])).toEqual({ admitted: false, usage: [10], current: [6] });
  });
});
