// correlation-id config (Kong's bundled plugin, priority 100001; kong/plugins/correlation-id/schema.lua).
import { z } from "zod";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean } from "../config-fields.ts";

export const GENERATORS = ["uuid", "uuid#counter", "tracker"] as const;

export const correlationIdConfig = lazy(() =>
  z.strictObject({
    // Kong types it as a plain string (not its header_name typedef); an empty name could never be sent.
    header_name: z
      .string({ error: typeError("expected a string") })
      .min(1, "length must be at least 1")
      .nullable()
      .default("Kong-Request-ID"),
    generator: z
      .enum(GENERATORS, { error: typeError(`expected one of: ${GENERATORS.join(", ")}`) })
      .default("uuid#counter"),
    echo_downstream: configBoolean(false),
  }),
);

export type CorrelationIdConfig = z.output<ReturnType<typeof correlationIdConfig>>;
