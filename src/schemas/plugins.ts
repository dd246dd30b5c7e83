// Plugin: a configured instance of a bundled plugin, global or scoped to a route/service/consumer
// (kong/db/schema/entities/plugins.lua). The config is validated by the plugin's own schema here, when it is
// written — never per request.
import { z } from "zod";
import { PLUGIN_CATALOG } from "../plugins/catalog.ts";
import {
  boolean,
  foreignRef,
  name,
  nullable,
  PROTOCOLS,
  protocol,
  requiredWithDefault,
  set,
  tags,
  text,
  timestamp,
  typeError,
  uuid,
} from "./common.ts";

export const pluginFields = {
  id: uuid.optional(),
  created_at: timestamp.optional(),
  updated_at: timestamp.optional(),
  name: text,
  instance_name: nullable(name),
  route: nullable(foreignRef),
  service: nullable(foreignRef),
  consumer: nullable(foreignRef),
  config: z
    .record(z.string(), z.unknown(), { error: typeError("expected a record") })
    .nullable()
    .default(null),
  protocols: requiredWithDefault(
    set(protocol).refine((p) => p.length > 0, { error: "length must be at least 1" }),
    [...PROTOCOLS],
  ),
  enabled: requiredWithDefault(boolean, true),
  tags,
};

export const pluginSchema = z
  .strictObject(pluginFields, { error: "expected a record" })
  .transform((plugin, ctx) => {
    const descriptor = PLUGIN_CATALOG.get(plugin.name);
    if (!descriptor) {
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: `plugin '${plugin.name}' not enabled; add it to the 'plugins' configuration property`,
      });
      return z.NEVER;
    }
    if (descriptor.noConsumer && plugin.consumer !== null)
      ctx.addIssue({ code: "custom", path: ["consumer"], message: "value must be null" });
    const config = descriptor.config.safeParse(plugin.config ?? {});
    if (!config.success) {
      for (const issue of config.error.issues) {
        if (issue.code === "unrecognized_keys") {
          for (const key of issue.keys)
            ctx.addIssue({
              code: "custom",
              path: ["config", ...issue.path, key] as PropertyKey[],
              message: "unknown field",
            });
        } else
          ctx.addIssue({
            code: "custom",
            // Entity checks of a config (acl's allow/deny) are reported on the plugin, as Kong does.
            path: (issue.path[0] === "@entity" ? ["@entity"] : ["config", ...issue.path]) as PropertyKey[],
            message: issue.message,
          });
      }
      return z.NEVER;
    }
    return { ...plugin, config: config.data as Record<string, unknown> };
  });

export type Plugin = Omit<
  z.output<typeof pluginSchema>,
  "id" | "created_at" | "updated_at" | "route" | "service" | "consumer"
> & {
  id: string;
  created_at: number;
  updated_at: number;
  route: { id: string } | null;
  service: { id: string } | null;
  consumer: { id: string } | null;
};

export const PLUGIN_FIELDS = Object.keys(pluginFields) as (keyof Plugin)[];
