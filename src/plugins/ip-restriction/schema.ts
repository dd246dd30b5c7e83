// ip-restriction config (Kong's bundled plugin, priority 990; kong/plugins/ip-restriction/schema.lua).
import { z } from "zod";
import { parseIpRange } from "../../proxy/ip-ranges.ts";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configString } from "../config-fields.ts";

/** Kong's ip_or_cidr typedef. */
const ipOrCidr = lazy(() =>
  z.string({ error: typeError("expected a string") }).refine((value) => parseIpRange(value) !== null, {
    error: (issue) => `invalid ip or cidr range: '${issue.input}'`,
  }),
);

const ranges = lazy(() =>
  z
    .array(ipOrCidr(), { error: typeError("expected an array") })
    .nullable()
    .default(null),
);

export const ipRestrictionConfig = lazy(() =>
  z
    .strictObject({
      allow: ranges(),
      deny: ranges(),
      // Kong leaves the range open and fails at request time below 400 (kong.response.error's rule): refused
      // here instead, with Kong's range message.
      status: z
        .number({ error: typeError("expected a number") })
        .int({ error: "expected an integer" })
        .min(400, { error: "value should be between 400 and 599" })
        .max(599, { error: "value should be between 400 and 599" })
        .nullable()
        .default(null),
      message: configString().nullable().default(null),
    })
    .superRefine((config, ctx) => {
      const set = (list: string[] | null) => list !== null && list.length > 0;
      if (!set(config.allow) && !set(config.deny))
        ctx.addIssue({
          code: "custom",
          path: ["@entity"],
          message: "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
        });
    }),
);

export type IpRestrictionConfig = z.output<ReturnType<typeof ipRestrictionConfig>>;
