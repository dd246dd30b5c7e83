// http-log config (Kong's bundled plugin, priority 12; kong/plugins/http-log/schema.lua and the queue typedef
// of kong/tools/queue_schema.lua): Kong's fields, defaults and checks; the deprecated retry_count, queue_size
// and flush_timeout accepted as Kong's shorthands; custom_fields templates in place of custom_fields_by_lua.
import { z } from "zod";
import { integer, typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { headerName } from "../config-fields.ts";
import { customFieldsByLuaSchema, customFieldsSchema } from "../log-fields.ts";

const number = (min: number, max: number) =>
  z
    .number({ error: typeError("expected a number") })
    .min(min, { error: `value should be between ${min} and ${max}` })
    .max(max, { error: `value should be between ${min} and ${max}` });

/** Kong's `queue` record (seconds for the delays and times, as Kong). */
export const queueSchema = lazy(() =>
  z
    .strictObject(
      {
        max_batch_size: integer(1, 1_000_000).default(1),
        max_coalescing_delay: number(0, 3600).default(1),
        max_entries: integer(1, 1_000_000).default(10_000),
        max_bytes: z
          .number({ error: typeError("expected an integer") })
          .int({ error: "expected an integer" })
          .nullable()
          .default(null),
        max_retry_time: z.number({ error: typeError("expected a number") }).default(60),
        initial_retry_delay: number(0.001, 1_000_000).default(0.01),
        max_retry_delay: number(0.001, 1_000_000).default(60),
        concurrency_limit: z
          .union([z.literal(-1), z.literal(1)], { error: typeError("expected one of: -1, 1") })
          .default(1),
      },
      { error: typeError("expected a record") },
    )
    .default({
      max_batch_size: 1,
      max_coalescing_delay: 1,
      max_entries: 10_000,
      max_bytes: null,
      max_retry_time: 60,
      initial_retry_delay: 0.01,
      max_retry_delay: 60,
      concurrency_limit: 1,
    }),
);

export type QueueConfig = z.output<ReturnType<typeof queueSchema>>;

/** Kong's url typedef: something with a scheme and a host (and, to be sent to, http or https). */
const endpoint = lazy(() =>
  z.string({ error: typeError("expected a string") }).superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({
        code: "custom",
        message: /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? "missing host in url" : "missing scheme in url",
      });
      return;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      ctx.addIssue({ code: "custom", message: "unsupported scheme in url: expected http or https" });
    else if (url.hostname === "") ctx.addIssue({ code: "custom", message: "missing host in url" });
  }),
);

const FORBIDDEN_HEADERS = {
  host: "Host",
  "content-length": "Content-Length",
  "content-type": "Content-Type",
};

const headers = lazy(() =>
  z
    .record(headerName(), z.string({ error: typeError("expected a string") }), {
      error: typeError("expected a map"),
    })
    .superRefine((map, ctx) => {
      for (const name of Object.keys(map)) {
        const forbidden = FORBIDDEN_HEADERS[name.toLowerCase() as keyof typeof FORBIDDEN_HEADERS];
        if (forbidden !== undefined)
          ctx.addIssue({ code: "custom", message: `cannot contain '${forbidden}' header` });
      }
    })
    .nullable()
    .default(null),
);

const httpLogFields = lazy(() =>
  z.strictObject({
    http_endpoint: endpoint(),
    method: z
      .enum(["POST", "PUT", "PATCH"], { error: typeError("expected one of: POST, PUT, PATCH") })
      .default("POST"),
    content_type: z
      .enum(["application/json", "application/json; charset=utf-8"], {
        error: typeError("expected one of: application/json, application/json; charset=utf-8"),
      })
      .default("application/json"),
    timeout: z.number({ error: typeError("expected a number") }).default(10_000),
    keepalive: z.number({ error: typeError("expected a number") }).default(60_000),
    // Deprecated in Kong 3.x (shorthands into `queue`); kept readable.
    retry_count: z
      .number({ error: typeError("expected an integer") })
      .int({ error: "expected an integer" })
      .nullable()
      .default(null),
    queue_size: z
      .number({ error: typeError("expected an integer") })
      .int({ error: "expected an integer" })
      .nullable()
      .default(null),
    flush_timeout: z
      .number({ error: typeError("expected a number") })
      .nullable()
      .default(null),
    headers: headers(),
    queue: queueSchema(),
    custom_fields_by_lua: customFieldsByLuaSchema(),
    /** Beyond Kong: templates over the log record, in place of Lua code. */
    custom_fields: customFieldsSchema(),
  }),
);

export type HttpLogConfig = z.output<ReturnType<typeof httpLogFields>>;

/** Kong's shorthands: queue_size → queue.max_batch_size, flush_timeout → queue.max_coalescing_delay. */
function expandShorthands(input: unknown): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const source = input as Record<string, unknown>;
  const moved: Record<string, unknown> = {};
  if (typeof source.queue_size === "number") moved.max_batch_size = source.queue_size;
  if (typeof source.flush_timeout === "number") moved.max_coalescing_delay = source.flush_timeout;
  if (Object.keys(moved).length === 0) return input;
  const given = source.queue;
  const queue = typeof given === "object" && given !== null && !Array.isArray(given) ? given : {};
  return { ...source, queue: { ...moved, ...queue } };
}

export const httpLogConfig = lazy(() =>
  z.preprocess(
    expandShorthands,
    httpLogFields().superRefine((config, ctx) => {
      // Kong's entity check: credentials in the URL and an Authorization header would both claim the request.
      // Also runs when a field failed its own check (the endpoint is then not a URL: nothing to compare).
      if (!URL.canParse(config.http_endpoint)) return;
      const url = new URL(config.http_endpoint);
      const authorization = Object.keys(config.headers ?? {}).some(
        (h) => h.toLowerCase() === "authorization",
      );
      if ((url.username !== "" || url.password !== "") && authorization)
        ctx.addIssue({
          code: "custom",
          path: [],
          message:
            "specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed",
        });
    }),
  ),
);
