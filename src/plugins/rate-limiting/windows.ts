// Kong's windows (kong/tools/timestamp.lua, rate-limiting/expiration.lua): fixed windows aligned to the UTC
// clock — second, minute, hour and day at their boundaries, month at day 1 00:00 UTC, year at January 1 —
// and the constant lengths Kong uses for counter lifetimes and reset times (a month counts as 30 days, a year
// as 365, whatever the calendar says).
import type { RatePeriod } from "../../schemas/rate-windows.ts";

/** Kong's EXPIRATION table, seconds. */
export const WINDOW_SECONDS: Readonly<Record<RatePeriod, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  month: 2592000,
  year: 31536000,
};

/** Start of the window of `period` that contains `now` (epoch ms), epoch ms. */
export function windowStart(period: RatePeriod, now: number): number {
  switch (period) {
    case "second":
      return now - (now % 1000);
    case "minute":
      return now - (now % 60_000);
    case "hour":
      return now - (now % 3_600_000);
    case "day":
      return now - (now % 86_400_000);
    case "month": {
      const d = new Date(now);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
    case "year":
      return Date.UTC(new Date(now).getUTCFullYear(), 0, 1);
  }
}

/** Start of the window after the one that starts at `start` (calendar months and years have their real length). */
export function nextWindowStart(period: RatePeriod, start: number): number {
  switch (period) {
    case "month": {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
    case "year":
      return Date.UTC(new Date(start).getUTCFullYear() + 1, 0, 1);
    default:
      return start + WINDOW_SECONDS[period] * 1000;
  }
}

/** Start of the window before the one that starts at `start`. */
export function previousWindowStart(period: RatePeriod, start: number): number {
  switch (period) {
    case "month": {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
    }
    case "year":
      return Date.UTC(new Date(start).getUTCFullYear() - 1, 0, 1);
    default:
      return start - WINDOW_SECONDS[period] * 1000;
  }
}

/**
 * Kong's RateLimit-Reset: seconds until the window ends, computed with Kong's constant window lengths and
 * whole seconds — `max(1, length − floor((now − start) / 1000))`. `now` is whole seconds, in ms.
 */
export function fixedReset(period: RatePeriod, start: number, now: number): number {
  return Math.max(1, WINDOW_SECONDS[period] - Math.floor((now - start) / 1000));
}

/**
 * Sliding windows: how long until a request would be admitted again in a window whose usage is
 * `previous × weight + current` with `limit` (seconds, at least 1). The previous window's share decays
 * linearly over the current window; once it ends, the current count becomes the decaying one.
 */
export function slidingRetryAfter(
  period: RatePeriod,
  start: number,
  now: number,
  counts: { previous: number; current: number },
  limit: number,
): number {
  const length = nextWindowStart(period, start) - start;
  const elapsed = now - start;
  let wait: number;
  if (counts.current < limit) {
    // The previous window's share must fall below what is left: previous × (1 − t / length) < limit − current.
    const needed = counts.previous === 0 ? 0 : length * (1 - (limit - counts.current) / counts.previous);
    wait = needed - elapsed;
  } else {
    // Not before the next window, where this window's count decays the same way.
    wait = length - elapsed + length * (1 - limit / counts.current);
  }
  return Math.max(1, Math.ceil(wait / 1000));
}
