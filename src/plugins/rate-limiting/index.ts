// rate-limiting (Kong's bundled plugin, priority 910): counts requests per identifier in windows aligned to
// the UTC clock, tells the client where it stands (X-RateLimit-*, RateLimit-*), and answers error_code with
// error_message once a window is full. Counters: this node's (`local`), the gateway's database (`cluster`)
// or Redis (`redis`); each request is decided and counted in one atomic step whatever the policy.
import type { RateCounters, RateUsage, RateWindow } from "../../schemas/rate-windows.ts";
import type { PluginContext, PluginDescriptor, PluginEnv } from "../contract.ts";
import { RedisConnection } from "./redis-connection.ts";
import { BatchedRedisCounters, RedisCounters } from "./redis-counters.ts";
import { configuredLimits, type RateLimitingConfig, rateLimitingConfig } from "./schema.ts";
import { FixedWindowCache } from "./window-cache.ts";
import {
  fixedReset,
  nextWindowStart,
  previousWindowStart,
  slidingRetryAfter,
  WINDOW_SECONDS,
  windowStart,
} from "./windows.ts";

/** Kong's scope of a counter when the plugin is not on a route or service. */
const EMPTY_UUID = "00000000-0000-0000-0000-000000000000";

const TITLE = {
  second: "Second",
  minute: "Minute",
  hour: "Hour",
  day: "Day",
  month: "Month",
  year: "Year",
} as const;

/** Who a request counts against (Kong's get_identifier): the chosen entity, else the client's address. */
function identifierOf(config: RateLimitingConfig): (ctx: PluginContext) => string {
  switch (config.limit_by) {
    case "consumer":
      return (ctx) => ctx.consumer?.id ?? ctx.credential?.id ?? ctx.clientIp;
    case "credential":
      return (ctx) => ctx.credential?.id ?? ctx.clientIp;
    case "service":
      return (ctx) => ctx.service?.id ?? ctx.clientIp;
    case "header": {
      const name = config.header_name!;
      return (ctx) => {
        const value = ctx.requestHeader(name);
        // Kong's get_header returns the first of repeated values (Bun joins them with ", ").
        return value === null ? ctx.clientIp : value.split(", ")[0]!;
      };
    }
    case "path": {
      const path = config.path!;
      return (ctx) => (ctx.path === path ? path : ctx.clientIp);
    }
    case "ip":
      return (ctx) => ctx.clientIp;
  }
}

/** Counters plus whatever must be released with the instance. */
type Policy = { counters: RateCounters; close(): void };

function policyFor(config: RateLimitingConfig, env: PluginEnv): Policy {
  switch (config.policy) {
    case "local":
      return { counters: env.localCounters, close() {} };
    case "cluster":
      if (env.clusterCounters === null) throw new Error("the cluster policy needs the gateway's database");
      return { counters: env.clusterCounters, close() {} };
    case "redis": {
      const connection = new RedisConnection({ ...config.redis, host: config.redis.host! });
      if (config.sync_rate === -1)
        return { counters: new RedisCounters(connection), close: () => connection.close() };
      const batched = new BatchedRedisCounters(connection, config.sync_rate, env.log);
      return {
        counters: batched,
        close() {
          batched.close();
          connection.close();
        },
      };
    }
  }
}

/** Kong's header value for a number (`tostring`): integers without a decimal point. */
const show = (n: number) => String(n);

export const rateLimiting: PluginDescriptor<RateLimitingConfig> = {
  name: "rate-limiting",
  priority: 910,
  version: "1.0.0",
  get config() {
    return rateLimitingConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  // Kong's redis typedef: the password is `encrypted` (the flat redis_password is stored here too).
  secrets: ["redis.password"],
  compile(config, env, scope) {
    // Everything about a limit that does not change per request: its header names and the limit as text.
    const limits = configuredLimits(config).map(({ period, limit }) => ({
      period,
      limit,
      limitText: show(limit),
      limitHeader: `X-RateLimit-Limit-${TITLE[period]}`,
      remainingHeader: `X-RateLimit-Remaining-${TITLE[period]}`,
    }));
    const routeId = scope.route ?? EMPTY_UUID;
    const serviceId = scope.service ?? EMPTY_UUID;
    const sliding = config.window_type === "sliding";
    const identify = identifierOf(config);
    const policy = policyFor(config, env);

    /** Fixed windows depend on the second only: built once per identifier and second. */
    const fixed = new FixedWindowCache((identifier, now) =>
      limits.map(({ period, limit }) => ({
        routeId,
        serviceId,
        identifier,
        period,
        start: windowStart(period, now),
        ttl: WINDOW_SECONDS[period],
        limit,
      })),
    );

    /** Sliding windows of this request; `now` is whole seconds (Kong's clock), `nowMs` the exact time. */
    const slidingWindows = (identifier: string, now: number, nowMs: number): RateWindow[] =>
      limits.map(({ period, limit }) => {
        const start = windowStart(period, now);
        const next = nextWindowStart(period, start);
        // The count must outlive the window after this one, where it is the decaying previous share.
        const ttl = Math.ceil((nextWindowStart(period, next) - nowMs) / 1000);
        const weight = 1 - (nowMs - start) / (next - start);
        return {
          routeId,
          serviceId,
          identifier,
          period,
          start,
          ttl,
          limit,
          previous: { start: previousWindowStart(period, start), weight },
        };
      });

    /** Kong's headers and answer for a decision (hide_client_headers: none of the headers). */
    const conclude = (
      ctx: PluginContext,
      windows: readonly RateWindow[],
      result: RateUsage,
      now: number,
      nowMs: number,
    ): Response | undefined => {
      if (single !== null)
        return concludeOne(ctx, single, windows[0]!, result.usage[0]!, result.admitted, now);
      if (config.hide_client_headers)
        return result.admitted ? undefined : ctx.respond(config.error_code, config.error_message);
      let chosen = -1;
      let chosenRemaining = 0;
      let chosenRemainingText = "";
      let retryAfter = 1;
      for (let i = 0; i < windows.length; i++) {
        const window = windows[i]!;
        const used = result.usage[i]!;
        const exceeded = used >= window.limit;
        // The request is counted in every window when admitted; when refused, Kong shows the exceeded one
        // one lower (clamped at 0) and the others as they are.
        let remaining = window.limit - used - (result.admitted || exceeded ? 1 : 0);
        if (sliding) remaining = Math.floor(remaining);
        remaining = Math.max(0, remaining);
        const length = WINDOW_SECONDS[window.period];
        if (
          chosen < 0 ||
          remaining < chosenRemaining ||
          (remaining === chosenRemaining && length > WINDOW_SECONDS[windows[chosen]!.period])
        ) {
          chosen = i;
          chosenRemaining = remaining;
          chosenRemainingText = show(remaining);
        }
        if (sliding && exceeded) {
          const current = result.current?.[i] ?? used;
          const previous =
            window.previous && window.previous.weight > 0 ? (used - current) / window.previous.weight : 0;
          retryAfter = Math.max(
            retryAfter,
            slidingRetryAfter(window.period, window.start, nowMs, { previous, current }, window.limit),
          );
        }
        const limit = limits[i]!;
        ctx.setResponseHeader(limit.limitHeader, limit.limitText);
        ctx.setResponseHeader(limit.remainingHeader, chosen === i ? chosenRemainingText : show(remaining));
      }
      const window = windows[chosen]!;
      let reset = sliding
        ? Math.max(1, Math.ceil((nextWindowStart(window.period, window.start) - nowMs) / 1000))
        : fixedReset(window.period, window.start, now);
      if (!result.admitted && sliding) reset = retryAfter;
      ctx.setResponseHeader("RateLimit-Limit", limits[chosen]!.limitText);
      ctx.setResponseHeader("RateLimit-Remaining", chosenRemainingText);
      ctx.setResponseHeader("RateLimit-Reset", show(reset));
      if (result.admitted) return undefined;
      ctx.setResponseHeader("Retry-After", show(reset));
      return ctx.respond(config.error_code, config.error_message);
    };

    /** One fixed period (the usual configuration): its limit is the tightest, and its text is known. */
    const single = limits.length === 1 && !sliding ? limits[0]! : null;
    /** RateLimit-Reset of that period for the second `resetSecond` (ms). */
    let resetSecond = -1;
    let resetText = "";

    /**
     * Kong's headers for one fixed period: the request counts in the window whether it was admitted or refused
     * by this very window (the only one), so remaining is limit − usage − 1, clamped at 0 (hide_client_headers:
     * none of them).
     */
    const concludeOne = (
      ctx: PluginContext,
      limit: NonNullable<typeof single>,
      window: RateWindow,
      used: number,
      admitted: boolean,
      now: number,
    ): Response | undefined => {
      if (config.hide_client_headers)
        return admitted ? undefined : ctx.respond(config.error_code, config.error_message);
      const remaining = show(Math.max(0, window.limit - used - 1));
      // The same for every request of one second (the window follows from the second): converted once.
      if (now !== resetSecond) {
        resetText = show(fixedReset(window.period, window.start, now));
        resetSecond = now;
      }
      const reset = resetText;
      // One array for the five (the context keeps it): no list grown header by header.
      ctx.setResponseHeaders([
        limit.limitHeader,
        limit.limitText,
        limit.remainingHeader,
        remaining,
        "RateLimit-Limit",
        limit.limitText,
        "RateLimit-Remaining",
        remaining,
        "RateLimit-Reset",
        reset,
      ]);
      if (admitted) return undefined;
      ctx.setResponseHeader("Retry-After", reset);
      return ctx.respond(config.error_code, config.error_message);
    };

    /**
     * Counters that decide one fixed window synchronously (the node's shared table): the usual configuration
     * needs no RateUsage per request.
     */
    const counters = policy.counters;
    const quick = single !== null && counters.takeOne !== undefined;

    /** The counters could not be reached: proxy without headers (fault_tolerant) or answer 500. */
    const unavailable = (ctx: PluginContext, error: unknown): Response | undefined => {
      env.log(
        `[rate-limiting] failed to get usage: ${(error as Error)?.message ?? error} (request ${ctx.requestId})`,
      );
      return config.fault_tolerant ? undefined : ctx.respond(500, "An unexpected error occurred");
    };

    return {
      // Its headers go on the response only.
      upstreamHeaderEdits: [],
      access(ctx) {
        const nowMs = Date.now();
        const now = nowMs - (nowMs % 1000);
        const identifier = identify(ctx);
        const windows = sliding ? slidingWindows(identifier, now, nowMs) : fixed.get(identifier, now);
        if (quick) {
          const window = windows[0]!;
          let used: number;
          try {
            used = counters.takeOne!(window, nowMs);
          } catch (error) {
            return unavailable(ctx, error);
          }
          return concludeOne(ctx, single, window, used, used < window.limit, now);
        }
        let result: RateUsage | Promise<RateUsage>;
        try {
          result = counters.take(windows, nowMs);
        } catch (error) {
          return unavailable(ctx, error);
        }
        if (result instanceof Promise)
          return result.then(
            (usage) => conclude(ctx, windows, usage, now, nowMs),
            (error) => unavailable(ctx, error),
          );
        return conclude(ctx, windows, result, now, nowMs);
      },
      cleanup: () => policy.close(),
    };
  },
};
