// cors config (Kong's bundled plugin, priority 2000; kong/plugins/cors/schema.lua).
import { z } from "zod";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean, configString } from "../config-fields.ts";

export const CORS_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT"];

/** An origin entry: `*` or something that compiles as a regex (a plain origin does too). */
const origin = lazy(() =>
  configString().refine(
    (value) => {
      if (value === "*") return true;
      try {
        new RegExp(value);
        return true;
      } catch {
        return false;
      }
    },
    { error: (issue) => `'${issue.input}' is not a valid regex` },
  ),
);

const strings = (item: z.ZodType<string>) =>
  z
    .array(item, { error: typeError("expected an array") })
    .nullable()
    .default(null);

export const corsConfig = lazy(() =>
  z.strictObject({
    origins: strings(origin()),
    headers: strings(configString()),
    exposed_headers: strings(configString()),
    methods: z
      .array(z.enum(CORS_METHODS, { error: `expected one of: ${CORS_METHODS.join(", ")}` }), {
        error: typeError("expected an array"),
      })
      .nullable()
      .default(CORS_METHODS),
    max_age: z
      .number({ error: typeError("expected a number") })
      .nullable()
      .default(null),
    credentials: configBoolean(false),
    private_network: configBoolean(false),
    preflight_continue: configBoolean(false),
    allow_origin_absent: configBoolean(true),
  }),
);

export type CorsConfig = z.output<ReturnType<typeof corsConfig>>;
