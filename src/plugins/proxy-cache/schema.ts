// proxy-cache config (Kong's bundled plugin, priority 100; kong/plugins/proxy-cache/schema.lua).
import { z } from "zod";
import { integer, typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean, configRecord } from "../config-fields.ts";

export const CACHE_METHODS = ["HEAD", "GET", "POST", "PATCH", "PUT"] as const;

const string = lazy(() => z.string({ error: typeError("expected a string") }));
const strings = lazy(() => z.array(string(), { error: typeError("expected an array") }));

export const proxyCacheConfig = lazy(() =>
  z.strictObject({
    response_code: z
      .array(integer(100, 900), { error: typeError("expected an array") })
      .min(1, { error: "length must be at least 1" })
      .default([200, 301, 404]),
    request_method: z
      .array(z.enum(CACHE_METHODS, { error: typeError(`expected one of: ${CACHE_METHODS.join(", ")}`) }), {
        error: typeError("expected an array"),
      })
      .default(["GET", "HEAD"]),
    content_type: strings().default(["text/plain", "application/json"]),
    cache_ttl: z
      .number({ error: typeError("expected an integer") })
      .int({ error: "expected an integer" })
      .gt(0, { error: "value must be greater than 0" })
      .nullable()
      .default(300),
    // Kong OSS has the memory strategy only; required, no default.
    strategy: z.enum(["memory"], { error: typeError("expected one of: memory") }),
    cache_control: configBoolean(false),
    ignore_uri_case: configBoolean(false),
    storage_ttl: z
      .number({ error: typeError("expected an integer") })
      .int({ error: "expected an integer" })
      .nullable()
      .default(null),
    memory: configRecord({ dictionary_name: string().default("kong_db_cache") }),
    vary_query_params: strings().nullable().default(null),
    vary_headers: strings().nullable().default(null),
    response_headers: configRecord({
      age: configBoolean(true),
      "X-Cache-Status": configBoolean(true),
      "X-Cache-Key": configBoolean(true),
    }),
  }),
);

export type ProxyCacheConfig = z.output<ReturnType<typeof proxyCacheConfig>>;
