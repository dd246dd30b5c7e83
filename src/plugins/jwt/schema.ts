// jwt config (Kong's bundled plugin, priority 1450).
import { z } from "zod";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { anonymous, configBoolean, configString, stringArray } from "../config-fields.ts";

export const jwtConfig = lazy(() =>
  z
    .strictObject({
      uri_param_names: stringArray(["jwt"]),
      cookie_names: stringArray([]),
      header_names: stringArray(["authorization"]),
      claims_to_verify: z
        .array(z.enum(["exp", "nbf"], { error: typeError("expected one of: exp, nbf") }), {
          error: typeError("expected a set"),
        })
        .transform((claims) => [...new Set(claims)])
        .nullable()
        .default(null),
      key_claim_name: configString().default("iss"),
      secret_is_base64: configBoolean(false),
      anonymous: anonymous(),
      run_on_preflight: configBoolean(true),
      maximum_expiration: z
        .number({ error: typeError("expected a number") })
        .min(0, "value should be between 0 and 31536000")
        .max(31536000, "value should be between 0 and 31536000")
        .default(0),
      realm: configString().nullable().default(null),
    })
    .superRefine((config, ctx) => {
      // Kong's conditional check: a maximum expiration needs exp among the verified claims — when claims are
      // listed at all (an absent list passes, and the runtime check then insists on exp itself).
      if (
        config.maximum_expiration > 0 &&
        config.claims_to_verify !== null &&
        !config.claims_to_verify.includes("exp")
      ) {
        ctx.addIssue({ code: "custom", path: ["claims_to_verify"], message: "expected to contain: exp" });
        ctx.addIssue({
          code: "custom",
          path: ["@entity"],
          message: "failed conditional validation given value of field 'config.maximum_expiration'",
        });
      }
    }),
);

export type JwtConfig = z.output<ReturnType<typeof jwtConfig>>;
