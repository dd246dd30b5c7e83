// An upstream's `healthchecks` record (kong/db/schema/entities/upstreams.lua), with Kong's defaults, ranges and
// messages. Every counter and interval defaults to 0, which means "off": health checking exists only when one
// of the active intervals or passive unhealthy counters is set (isUsingHealthchecks).
import { z } from "zod";
import { defaulted, integer, nullable, path, refineWith, requiredWithDefault, typeError } from "./common.ts";
import { validateHeaderName, validateSni } from "./http-names.ts";
import { lazy } from "./lazy.ts";

function number(min: number, max: number) {
  return z
    .number({ error: typeError("expected a number") })
    .min(min, { error: `value should be between ${min} and ${max}` })
    .max(max, { error: `value should be between ${min} and ${max}` });
}

const seconds = (value: number) => defaulted(number(0, 65535), value);
const counter = lazy(() => defaulted(integer(0, 255), 0));

const httpStatuses = (value: number[]) =>
  defaulted(z.array(integer(100, 999), { error: typeError("expected an array") }), value);

export const CHECK_TYPES = ["tcp", "http", "https", "grpc", "grpcs"] as const;
const checkType = lazy(() =>
  defaulted(z.enum(CHECK_TYPES, { error: typeError(`expected one of: ${CHECK_TYPES.join(", ")}`) }), "http"),
);

const headers = lazy(() =>
  z
    .record(
      z.string(),
      z.array(z.string({ error: typeError("expected a string") }), { error: typeError("expected an array") }),
      { error: typeError("expected a map") },
    )
    .superRefine((map, ctx) => {
      // A bad name is the map's error, as Kong reports a map key.
      for (const name of Object.keys(map)) refineWith(validateHeaderName)(name, ctx);
    })
    .nullable()
    .default(null),
);

/** A nested record: absent or null takes every default, a partial one fills in the rest. */
function record<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess(
    (value) => (value === null ? undefined : value),
    // Every field of these records has a default, so an empty record is complete.
    z.strictObject(shape, { error: typeError("expected a record") }).prefault({} as never),
  );
}

export const DEFAULT_ACTIVE_HEALTHY_STATUSES = [200, 302];
export const DEFAULT_ACTIVE_UNHEALTHY_STATUSES = [429, 404, 500, 501, 502, 503, 504, 505];
export const DEFAULT_PASSIVE_HEALTHY_STATUSES = [
  200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
];
export const DEFAULT_PASSIVE_UNHEALTHY_STATUSES = [429, 500, 503];

export const healthchecksSchema = lazy(() =>
  record({
    active: record({
      type: checkType(),
      timeout: seconds(1),
      concurrency: defaulted(integer(1, 2 ** 31), 10),
      http_path: defaulted(path(), "/"),
      https_sni: nullable(
        z.string({ error: typeError("expected a string") }).superRefine(refineWith(validateSni)),
      ),
      https_verify_certificate: requiredWithDefault(
        z.boolean({ error: typeError("expected a boolean") }),
        true,
      ),
      headers: headers(),
      healthy: record({
        interval: seconds(0),
        http_statuses: httpStatuses(DEFAULT_ACTIVE_HEALTHY_STATUSES),
        successes: counter(),
      }),
      unhealthy: record({
        interval: seconds(0),
        http_statuses: httpStatuses(DEFAULT_ACTIVE_UNHEALTHY_STATUSES),
        tcp_failures: counter(),
        timeouts: counter(),
        http_failures: counter(),
      }),
    }),
    passive: record({
      type: checkType(),
      healthy: record({
        http_statuses: httpStatuses(DEFAULT_PASSIVE_HEALTHY_STATUSES),
        successes: counter(),
      }),
      unhealthy: record({
        http_statuses: httpStatuses(DEFAULT_PASSIVE_UNHEALTHY_STATUSES),
        tcp_failures: counter(),
        timeouts: counter(),
        http_failures: counter(),
      }),
    }),
    threshold: defaulted(number(0, 100), 0),
  }),
);

export type Healthchecks = z.output<ReturnType<typeof healthchecksSchema>>;

/** Kong's is_upstream_using_healthcheck: an active interval or a passive unhealthy counter is set. */
export function isUsingHealthchecks(checks: Healthchecks): boolean {
  const { active, passive } = checks;
  return (
    active.healthy.interval !== 0 ||
    active.unhealthy.interval !== 0 ||
    passive.unhealthy.tcp_failures !== 0 ||
    passive.unhealthy.timeouts !== 0 ||
    passive.unhealthy.http_failures !== 0
  );
}
