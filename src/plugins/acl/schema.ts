// acl config (Kong's bundled plugin, priority 950): exactly one of allow / deny.
import { z } from "zod";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean, configString } from "../config-fields.ts";

const groups = lazy(() => z.array(configString(), { error: "expected an array" }).nullable().default(null));

export const aclConfig = lazy(() =>
  z
    .strictObject({
      allow: groups(),
      deny: groups(),
      hide_groups_header: configBoolean(false),
      always_use_authenticated_groups: configBoolean(false),
    })
    .superRefine((config, ctx) => {
      // Kong's two entity checks, with their own messages: `only_one_of` (run when either list is given) and
      // `at_least_one_of`. Two empty lists fail both.
      const given = (v: string[] | null) => v !== null;
      const set = (v: string[] | null) => v !== null && v.length > 0;
      if ((given(config.allow) || given(config.deny)) && set(config.allow) === set(config.deny))
        ctx.addIssue({
          code: "custom",
          path: ["@entity"],
          message: "exactly one of these fields must be non-empty: 'config.allow', 'config.deny'",
        });
      if (!set(config.allow) && !set(config.deny))
        ctx.addIssue({
          code: "custom",
          path: ["@entity"],
          message: "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
        });
    }),
);

export type AclConfig = z.output<ReturnType<typeof aclConfig>>;
