// rate-limiting config (Kong's bundled plugin, priority 910): Kong's fields, defaults and messages
// (kong/plugins/rate-limiting/schema.lua, kong/tools/redis/schema.lua), the deprecated flat redis_* fields
// accepted as shorthands, and one opt-in beyond Kong: `window_type: "sliding"`.
import { z } from "zod";
import { host, integer, path, typeError, validateHost } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { RATE_PERIODS, type RatePeriod } from "../../schemas/rate-windows.ts";
import { configBoolean, headerName } from "../config-fields.ts";

const limit = lazy(() =>
  z
    .number({ error: typeError("expected a number") })
    .gt(0, { error: "value must be greater than 0" })
    .nullable()
    .default(null),
);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.enum(values, { error: typeError(`expected one of: ${values.join(", ")}`) }).default(fallback);

/** Kong's `sni` typedef: a host name, never an IP address or a port. */
const serverName = lazy(() =>
  z.string({ error: typeError("expected a string") }).superRefine((value, ctx) => {
    const message = validateHost(value);
    if (message !== null) ctx.addIssue({ code: "custom", message });
    else if (/^[\d.]+$/.test(value) || value.includes(":"))
      ctx.addIssue({ code: "custom", message: "must not be an IP" });
  }),
);

const redisSchema = lazy(() =>
  z
    .strictObject(
      {
        host: host().nullable().default(null),
        port: integer(0, 65535).default(6379),
        timeout: integer(0, 2147483646).default(2000),
        username: z
          .string({ error: typeError("expected a string") })
          .nullable()
          .default(null),
        password: z
          .string({ error: typeError("expected a string") })
          .nullable()
          .default(null),
        database: z
          .number({ error: typeError("expected an integer") })
          .int({ error: "expected an integer" })
          .default(0),
        ssl: configBoolean(false),
        ssl_verify: configBoolean(false),
        server_name: serverName().nullable().default(null),
      },
      { error: typeError("expected a record") },
    )
    .default({
      host: null,
      port: 6379,
      timeout: 2000,
      username: null,
      password: null,
      database: 0,
      ssl: false,
      ssl_verify: false,
      server_name: null,
    }),
);

/** Kong's deprecated flat fields (removal in Kong 4.0), each a shorthand for a field of `redis`. */
const SHORTHANDS = {
  redis_host: "host",
  redis_port: "port",
  redis_password: "password",
  redis_username: "username",
  redis_ssl: "ssl",
  redis_ssl_verify: "ssl_verify",
  redis_server_name: "server_name",
  redis_timeout: "timeout",
  redis_database: "database",
} as const;

/**
 * Moves the deprecated `redis_*` fields into `redis` (a value given in `redis` itself wins, as in Kong); a null
 * `redis` takes its defaults.
 */
function expandShorthands(input: unknown): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const source = input as Record<string, unknown>;
  if (!Object.keys(SHORTHANDS).some((key) => key in source)) {
    if (source.redis !== null) return input;
    const { redis: _null, ...rest } = source;
    return rest;
  }
  const out: Record<string, unknown> = {};
  const moved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const target = SHORTHANDS[key as keyof typeof SHORTHANDS];
    if (target === undefined) out[key] = value;
    else if (value !== null && value !== undefined) moved[target] = value;
  }
  const given = source.redis;
  out.redis =
    typeof given === "object" && given !== null && !Array.isArray(given) ? { ...moved, ...given } : moved;
  return out;
}

/** Kong's custom validator: larger periods may not have smaller limits; sync_rate only with redis. */
function periodsAndSyncRate(config: RateLimitingConfig, ctx: z.RefinementCtx): void {
  for (let i = 0; i < RATE_PERIODS.length; i++) {
    const lower = RATE_PERIODS[i]!;
    const lowerLimit = config[lower];
    if (lowerLimit === null) continue;
    for (const upper of RATE_PERIODS.slice(i + 1)) {
      const upperLimit = config[upper];
      if (upperLimit !== null && upperLimit < lowerLimit) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: `The limit for ${upper}(${upperLimit.toFixed(1)}) cannot be lower than the limit for ${lower}(${lowerLimit.toFixed(1)})`,
        });
        return;
      }
    }
  }
  if (config.policy !== "redis" && config.sync_rate !== -1) {
    ctx.addIssue({ code: "custom", path: [], message: "sync_rate can only be used with the redis policy" });
    return;
  }
  if (config.policy === "redis" && config.sync_rate !== -1 && config.sync_rate < 0.02)
    ctx.addIssue({
      code: "custom",
      path: [],
      message: "sync_rate must be greater than 0.02, or -1 to disable",
    });
}

/** Kong's entity checks: at least one limit, and the fields each choice needs. True when a field is missing. */
function entityChecks(config: RateLimitingConfig, ctx: z.RefinementCtx): boolean {
  if (RATE_PERIODS.every((p) => config[p] === null))
    ctx.addIssue({
      code: "custom",
      path: ["@entity"],
      message: `at least one of these fields must be non-empty: ${RATE_PERIODS.map((p) => `'config.${p}'`).join(", ")}`,
    });
  let missing = false;
  const requires = (when: "policy" | "limit_by", field: (string | number)[]) => {
    missing = true;
    ctx.addIssue({ code: "custom", path: field, message: "required field missing" });
    ctx.addIssue({
      code: "custom",
      path: ["@entity"],
      message: `failed conditional validation given value of field 'config.${when}'`,
    });
  };
  if (config.policy === "redis" && config.redis.host === null) requires("policy", ["redis", "host"]);
  if (config.limit_by === "header" && config.header_name === null) requires("limit_by", ["header_name"]);
  if (config.limit_by === "path" && config.path === null) requires("limit_by", ["path"]);
  return missing;
}

const rateLimitingFields = lazy(() =>
  z.strictObject({
    second: limit(),
    minute: limit(),
    hour: limit(),
    day: limit(),
    month: limit(),
    year: limit(),
    limit_by: oneOf(["consumer", "credential", "ip", "service", "header", "path"], "consumer"),
    header_name: headerName().nullable().default(null),
    path: path().nullable().default(null),
    policy: oneOf(["local", "cluster", "redis"], "local"),
    fault_tolerant: configBoolean(true),
    redis: redisSchema(),
    hide_client_headers: configBoolean(false),
    // Any positive number in Kong; a response status must be a 3-digit one, so that is checked here too.
    error_code: z
      .number({ error: typeError("expected a number") })
      .gt(0, { error: "value must be greater than 0" })
      .refine((code) => Number.isInteger(code) && code >= 200 && code <= 599, {
        error: "value should be an HTTP status between 200 and 599",
      })
      .default(429),
    error_message: z.string({ error: typeError("expected a string") }).default("API rate limit exceeded"),
    sync_rate: z.number({ error: typeError("expected a number") }).default(-1),
    /** Beyond Kong: `sliding` weighs the previous window's count by the share of it still in view. */
    window_type: oneOf(["fixed", "sliding"], "fixed"),
  }),
);

export type RateLimitingConfig = z.output<ReturnType<typeof rateLimitingFields>>;

export const rateLimitingConfig = lazy(() =>
  z.preprocess(
    expandShorthands,
    rateLimitingFields().superRefine((config, ctx) => {
      // Kong reports a missing conditional field on the field itself; the record's own check (a message for
      // the whole config) comes only once the fields are complete.
      if (!entityChecks(config, ctx)) periodsAndSyncRate(config, ctx);
    }),
  ),
);

/** The configured limits, in Kong's period order. */
export function configuredLimits(config: RateLimitingConfig): { period: RatePeriod; limit: number }[] {
  return RATE_PERIODS.flatMap((period) => {
    const value = config[period];
    return value === null ? [] : [{ period, limit: value }];
  });
}
