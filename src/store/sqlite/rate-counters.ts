// rate-limiting's `cluster` policy on SQLite: every window of a request is read, and counted when all have
// room, in one IMMEDIATE transaction on the store's connection (queued behind config writes, so it never
// interleaves with one). Counter commits skip the fsync that config writes pay: a counter lost to a power
// cut costs nothing worth a disk flush per request.
import type { Database } from "bun:sqlite";
import { decide, type RateWindow } from "../../schemas/rate-windows.ts";
import type { StoredRateCounters } from "../contract.ts";
import type { Serial } from "../serial.ts";

export function sqliteRateCounters(sqlite: Database, serial: Serial): StoredRateCounters {
  const KEY = "identifier = ? AND period = ? AND period_date = ? AND service_id = ? AND route_id = ?";
  const select = sqlite.prepare<{ value: number }, [string, string, number, string, string, number]>(
    `SELECT value FROM ratelimiting_metrics WHERE ${KEY} AND ttl > ?`,
  );
  // A row whose ttl has passed but that was not purged yet starts again from 1 (Kong never reads it).
  const count = sqlite.prepare<never, [string, string, number, string, string, number, number]>(
    `INSERT INTO ratelimiting_metrics (identifier, period, period_date, service_id, route_id, value, ttl)
     VALUES (?, ?, ?, ?, ?, 1, ?)
     ON CONFLICT (identifier, period, period_date, service_id, route_id) DO UPDATE SET
       value = CASE WHEN ratelimiting_metrics.ttl > ?7 THEN ratelimiting_metrics.value + 1 ELSE 1 END,
       ttl = CASE WHEN ratelimiting_metrics.ttl > ?7 THEN ratelimiting_metrics.ttl ELSE excluded.ttl END`,
  );
  const purge = sqlite.prepare<never, [number]>("DELETE FROM ratelimiting_metrics WHERE ttl <= ?");
  const read = (w: RateWindow, start: number, now: number) =>
    select.get(w.identifier, w.period, start / 1000, w.serviceId, w.routeId, now)?.value ?? 0;

  return {
    take: (windows) =>
      serial.run(async () => {
        const now = Math.floor(Date.now() / 1000);
        sqlite.run("PRAGMA synchronous = NORMAL");
        sqlite.run("BEGIN IMMEDIATE");
        try {
          const current = windows.map((w) => read(w, w.start, now));
          const previous = windows.map((w) => (w.previous ? read(w, w.previous.start, now) : 0));
          const result = decide(windows, current, previous);
          if (result.admitted)
            for (const w of windows)
              count.run(w.identifier, w.period, w.start / 1000, w.serviceId, w.routeId, now + w.ttl, now);
          sqlite.run("COMMIT");
          return result;
        } catch (error) {
          sqlite.run("ROLLBACK");
          throw error;
        } finally {
          sqlite.run("PRAGMA synchronous = FULL");
        }
      }),
    purgeExpired: () => serial.run(async () => purge.run(Math.floor(Date.now() / 1000)).changes),
  };
}
