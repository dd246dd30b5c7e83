// Rate-limit counters as every policy sees them (in-process, Redis, the gateway's database): one request asks
// for several windows at once (one per configured period) and is counted in all of them, or in none, in one
// atomic step. A leaf module: the data plane (plugins/) implements it in memory and in Redis, the store
// (store/) in SQLite and PostgreSQL, and runtime/ hands the node's implementations to the plugins.

export const RATE_PERIODS = ["second", "minute", "hour", "day", "month", "year"] as const;
export type RatePeriod = (typeof RATE_PERIODS)[number];

/** One window of one limit. Its counter is Kong's `(route_id, service_id, identifier, period, period start)`. */
export type RateWindow = {
  /** The plugin's route and service (the all-zero UUID when it is not scoped to one). */
  routeId: string;
  serviceId: string;
  identifier: string;
  period: RatePeriod;
  /** Start of the window, epoch milliseconds (aligned to the UTC clock and calendar). */
  start: number;
  /** Seconds the counter must live after it is created. */
  ttl: number;
  limit: number;
  /**
   * Sliding windows (opt-in): the previous window of the same period, and the share of it that still counts
   * (1 at the start of the current window, 0 at its end).
   */
  previous?: { start: number; weight: number };
};

/** The outcome of one atomic step. */
export type RateUsage = {
  /** True when every window had room: the request was then counted in all of them. */
  admitted: boolean;
  /** Per window, its usage before this request (sliding: the weighted estimate, possibly fractional). */
  usage: number[];
  /** Sliding windows only: per window, the current window's own count (the rest of `usage` is the previous one's share). */
  current?: number[];
};

/** Counters that admit or refuse a request in one atomic step (no read-then-write race, Kong #5311). */
export interface RateCounters {
  /** `now`: the caller's reading of the clock (epoch ms) when it has one, so a request reads it once. */
  take(windows: readonly RateWindow[], now?: number): RateUsage | Promise<RateUsage>;
  /**
   * One fixed window (no `previous`) decided and counted at once, for counters that answer synchronously: its
   * usage before this request, which was admitted (and counted) exactly when that usage is below the limit.
   * The same step as `take([window])`, without a RateUsage and its list per request (the usual single-limit
   * configuration of the node-local policy).
   */
  takeOne?(window: RateWindow, now?: number): number;
}

/**
 * The decision every implementation makes, given the counts it read: a window has room while its usage is
 * below its limit (Kong: remaining = limit − usage must stay above 0); the request is admitted only when all do.
 */
export function decide(
  windows: readonly RateWindow[],
  current: readonly number[],
  previous: readonly number[],
): RateUsage {
  let admitted = true;
  let sliding = false;
  const usage = windows.map((window, i) => {
    let used = current[i] ?? 0;
    if (window.previous) {
      sliding = true;
      used += (previous[i] ?? 0) * window.previous.weight;
    }
    if (used >= window.limit) admitted = false;
    return used;
  });
  return sliding ? { admitted, usage, current: windows.map((_, i) => current[i] ?? 0) } : { admitted, usage };
}
