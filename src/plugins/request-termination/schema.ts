// request-termination config (Kong's bundled plugin, priority 2; kong/plugins/request-termination/schema.lua).
import { z } from "zod";
import { integer, typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean, headerName } from "../config-fields.ts";

const optionalString = lazy(() =>
  z
    .string({ error: typeError("expected a string") })
    .nullable()
    .default(null),
);

const present = (value: string | null) => value !== null && value.length > 0;

export const requestTerminationConfig = lazy(() =>
  z
    .strictObject({
      status_code: integer(100, 599).default(503),
      message: optionalString(),
      content_type: optionalString(),
      body: optionalString(),
      echo: configBoolean(false),
      trigger: headerName().nullable().default(null),
    })
    .superRefine((config, ctx) => {
      // Kong's custom_validator, in its order; its message is the whole config's error.
      const fail = (message: string) => ctx.addIssue({ code: "custom", path: [], message });
      if (present(config.message) && (present(config.content_type) || present(config.body)))
        fail("message cannot be used with content_type or body");
      else if (present(config.content_type) && !present(config.body)) fail("content_type requires a body");
      else if (config.echo && (present(config.content_type) || present(config.body)))
        fail("echo cannot be used with content_type and body");
    }),
);

export type RequestTerminationConfig = z.output<ReturnType<typeof requestTerminationConfig>>;
