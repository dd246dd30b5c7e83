// request-size-limiting config (Kong's bundled plugin, priority 951; kong/plugins/request-size-limiting).
import { z } from "zod";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean } from "../config-fields.ts";

/** Kong's units are binary multiples. */
export const SIZE_UNITS = { megabytes: 1048576, kilobytes: 1024, bytes: 1 } as const;
const UNITS = Object.keys(SIZE_UNITS) as (keyof typeof SIZE_UNITS)[];

export const requestSizeLimitingConfig = lazy(() =>
  z.strictObject({
    allowed_payload_size: z
      .number({ error: typeError("expected an integer") })
      .int({ error: "expected an integer" })
      .default(128),
    size_unit: z
      .enum(UNITS, { error: typeError(`expected one of: ${UNITS.join(", ")}`) })
      .default("megabytes"),
    require_content_length: configBoolean(false),
  }),
);

export type RequestSizeLimitingConfig = z.output<ReturnType<typeof requestSizeLimitingConfig>>;
