// rate-limiting's `cluster` counters in the store, on both dialects (the embedded SQLite and a fresh database
// on the machine's PostgreSQL): Kong's ratelimiting_metrics rows, admit-and-count in one step, refused
// requests not counted, sliding windows reading the previous row, expired rows, and concurrent requests that
// never over-admit.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import type { RatePeriod, RateWindow } from "../../src/schemas/rate-windows.ts";
import type { Store } from "../../src/store/contract.ts";
import { openStore } from "../../src/store/open.ts";
import { createTestDatabase, requirePostgres } from "../support/postgres.ts";

type Row = { identifier: string; period: string; period_date: number; value: number; ttl: number };

type Opened = { store: Store; rows(): Promise<Row[]>; expireAll(): Promise<void>; cleanup(): Promise<void> };

const dialects: { name: string; open(): Promise<Opened> }[] = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "portico-counters-"));
      const location = join(dir, "store.db");
      const store = await openStore(location);
      const peek = new Database(location);
      return {
        store,
        rows: async () =>
          peek
            .query<Row, []>("SELECT identifier, period, period_date, value, ttl FROM ratelimiting_metrics")
            .all(),
        expireAll: async () => {
          peek.run("UPDATE ratelimiting_metrics SET ttl = 0");
        },
        cleanup: async () => {
          peek.close();
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
if (await requirePostgres("rate-limit counters on PostgreSQL"))
  dialects.push({
    name: "postgres",
    async open() {
      const db = await createTestDatabase();
      const store = await openStore(db.url);
      const peek = new SQL(db.url, { max: 1 });
      return {
        store,
        rows: async () =>
          (await peek`SELECT identifier, period, period_date, value, ttl FROM ratelimiting_metrics`).map(
            (r: Row) => ({ ...r, period_date: Number(r.period_date), ttl: Number(r.ttl) }),
          ),
        expireAll: async () => {
          await peek`UPDATE ratelimiting_metrics SET ttl = 0`;
        },
        cleanup: async () => {
          await peek.close();
          await store.close();
          await db.drop();
        },
      };
    },
  });

const ZERO = "00000000-0000-0000-0000-000000000000";
const ROUTE = "6f0e3d2c-1b4a-4c5d-8e9f-0a1b2c3d4e5f";
const START = Date.UTC(2031, 0, 1, 12, 0, 0);

function window(
  identifier: string,
  period: RatePeriod,
  limit: number,
  extra: Partial<RateWindow> = {},
): RateWindow {
  const ttl = { second: 1, minute: 60, hour: 3600, day: 86400, month: 2592000, year: 31536000 }[period];
  return { routeId: ROUTE, serviceId: ZERO, identifier, period, start: START, ttl, limit, ...extra };
}

for (const dialect of dialects)
  describe(`cluster rate-limit counters on ${dialect.name}`, () => {
    let opened: Opened;
    beforeAll(async () => {
      opened = await dialect.open();
    });
    afterAll(() => opened.cleanup());

    test("admits and counts in every window; a refused request is counted in none", async () => {
      const { store } = opened;
      const windows = [window("alice", "minute", 2), window("alice", "hour", 10)];
      expect(await store.rateCounters.take(windows)).toEqual({ admitted: true, usage: [0, 0] });
      expect(await store.rateCounters.take(windows)).toEqual({ admitted: true, usage: [1, 1] });
      expect(await store.rateCounters.take(windows)).toEqual({ admitted: false, usage: [2, 2] });
      expect(await store.rateCounters.take(windows)).toEqual({ admitted: false, usage: [2, 2] });
      const rows = (await opened.rows()).filter((r) => r.identifier === "alice");
      expect(rows.map((r) => [r.period, r.period_date, r.value]).sort()).toEqual([
        ["hour", START / 1000, 2],
        ["minute", START / 1000, 2],
      ]);
      // Each row lives its window's length from its first hit (Kong's ttl column).
      const now = Date.now() / 1000;
      const minute = rows.find((r) => r.period === "minute")!;
      expect(minute.ttl).toBeGreaterThan(now + 50);
      expect(minute.ttl).toBeLessThanOrEqual(now + 61);
    });

    test("identifiers and windows are counted apart", async () => {
      const { store } = opened;
      expect((await store.rateCounters.take([window("bob", "minute", 1)])).admitted).toBe(true);
      expect((await store.rateCounters.take([window("bob", "minute", 1)])).admitted).toBe(false);
      expect((await store.rateCounters.take([window("carol", "minute", 1)])).admitted).toBe(true);
      const next = window("bob", "minute", 1, { start: START + 60_000 });
      expect((await store.rateCounters.take([next])).admitted).toBe(true);
    });

    test("sliding: the previous window's row counts by its weight", async () => {
      const { store } = opened;
      const previous = window("dave", "minute", 100, { start: START - 60_000, ttl: 180 });
      for (let i = 0; i < 6; i++) await store.rateCounters.take([previous]);
      const current = window("dave", "minute", 4, {
        ttl: 120,
        previous: { start: START - 60_000, weight: 0.5 },
      });
      // 6 × 0.5 = 3 < 4: room for one more, then full.
      expect(await store.rateCounters.take([current])).toEqual({ admitted: true, usage: [3], current: [0] });
      expect(await store.rateCounters.take([current])).toEqual({ admitted: false, usage: [4], current: [1] });
    });

    test("expired rows read as empty and start again from 1; purgeExpired deletes them", async () => {
      const { store } = opened;
      const w = window("erin", "minute", 2);
      await store.rateCounters.take([w]);
      await store.rateCounters.take([w]);
      expect((await store.rateCounters.take([w])).admitted).toBe(false);
      await opened.expireAll();
      expect(await store.rateCounters.take([w])).toEqual({ admitted: true, usage: [0] });
      const erin = (await opened.rows()).filter((r) => r.identifier === "erin");
      expect(erin.map((r) => r.value)).toEqual([1]);
      await opened.expireAll();
      expect(await store.rateCounters.purgeExpired()).toBeGreaterThan(0);
      expect(await opened.rows()).toEqual([]);
    });

    test("40 concurrent requests against a limit of 10: exactly 10 admitted", async () => {
      const { store } = opened;
      const windows = [window("frank", "hour", 10), window("frank", "day", 1000)];
      const results = await Promise.all(Array.from({ length: 40 }, () => store.rateCounters.take(windows)));
      expect(results.filter((r) => r.admitted)).toHaveLength(10);
      const rows = (await opened.rows()).filter((r) => r.identifier === "frank");
      expect(rows.map((r) => r.value)).toEqual([10, 10]);
    });
  });
