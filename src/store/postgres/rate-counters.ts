// rate-limiting's `cluster` policy on PostgreSQL, shared by every node: one transaction per request locks
// each window's row (creating it at 0 when missing), reads the previous windows of sliding limits, and counts
// the request in every window only when all have room. Rows are locked in key order, so two requests for the
// same identifier queue instead of deadlocking, and neither can read a count the other is about to change.
import type { SQL } from "bun";
import { decide, type RateWindow } from "../../schemas/rate-windows.ts";
import type { StoredRateCounters } from "../contract.ts";

const order = (a: RateWindow, b: RateWindow) =>
  a.period < b.period ? -1 : a.period > b.period ? 1 : a.start - b.start;

export function postgresRateCounters(client: SQL): StoredRateCounters {
  return {
    take: (windows) =>
      client.begin(async (tx) => {
        const now = Math.floor(Date.now() / 1000);
        const current = new Map<RateWindow, number>();
        for (const w of [...windows].sort(order)) {
          // ON CONFLICT DO UPDATE (a no-op write) locks the row until the transaction ends.
          const [row] = await tx`
            INSERT INTO ratelimiting_metrics (identifier, period, period_date, service_id, route_id, value, ttl)
            VALUES (${w.identifier}, ${w.period}, ${w.start / 1000}, ${w.serviceId}, ${w.routeId}, 0, ${now + w.ttl})
            ON CONFLICT (identifier, period, period_date, service_id, route_id)
              DO UPDATE SET value = ratelimiting_metrics.value
            RETURNING value, ttl`;
          current.set(w, Number(row.ttl) > now ? Number(row.value) : 0);
        }
        const previous: number[] = [];
        for (const w of windows) {
          if (!w.previous) {
            previous.push(0);
            continue;
          }
          const [row] = await tx`
            SELECT value FROM ratelimiting_metrics
            WHERE identifier = ${w.identifier} AND period = ${w.period} AND period_date = ${w.previous.start / 1000}
              AND service_id = ${w.serviceId} AND route_id = ${w.routeId} AND ttl > ${now}`;
          previous.push(row ? Number(row.value) : 0);
        }
        const result = decide(
          windows,
          windows.map((w) => current.get(w) ?? 0),
          previous,
        );
        if (result.admitted)
          for (const w of windows)
            await tx`
              UPDATE ratelimiting_metrics SET
                value = CASE WHEN ttl > ${now} THEN value + 1 ELSE 1 END,
                ttl = CASE WHEN ttl > ${now} THEN ttl ELSE ${now + w.ttl} END
              WHERE identifier = ${w.identifier} AND period = ${w.period} AND period_date = ${w.start / 1000}
                AND service_id = ${w.serviceId} AND route_id = ${w.routeId}`;
        return result;
      }),
    async purgeExpired() {
      const rows =
        await client`DELETE FROM ratelimiting_metrics WHERE ttl <= ${Math.floor(Date.now() / 1000)} RETURNING 1`;
      return rows.length;
    },
  };
}
