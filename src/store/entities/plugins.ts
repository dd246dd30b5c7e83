// Plugins: the entity's fields are schemas/plugins.ts; which config it takes, and where it may be applied,
// come from the bundled plugin's descriptor (Kong's plugin subschemas and no_consumer/no_route/no_service).
import { z } from "zod";
import { bundledPluginNames, PLUGIN_CATALOG } from "../../plugins/catalog.ts";
import { validateName } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { pluginFields, pluginSchema } from "../../schemas/plugins.ts";
import type { EntityDefinition, ForeignKey } from "../entity-def.ts";

/** Kong names a configuration property Portico does not have; the bundled plugins are what can be used. */
export function pluginNotEnabled(name: string): string {
  return `plugin '${name}' not enabled; bundled plugins: ${bundledPluginNames().join(", ")}`;
}

const SCOPES = ["route", "service", "consumer"] as const;

/** The entity check Kong runs through the plugin's subschema: name, scoping and config. */
const pluginWithConfig = lazy(() =>
  pluginSchema().transform((plugin, ctx) => {
    const descriptor = PLUGIN_CATALOG.get(plugin.name);
    if (!descriptor) {
      ctx.addIssue({ code: "custom", path: ["name"], message: pluginNotEnabled(plugin.name) });
      return z.NEVER;
    }
    for (const scope of SCOPES)
      if (!descriptor.scoping[scope] && plugin[scope] !== null)
        ctx.addIssue({ code: "custom", path: [scope], message: "value must be null" });
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
  }),
);

// CASCADE like Kong: a plugin goes with the route, service or consumer it is scoped to.
const scopedTo = (field: "route" | "service" | "consumer", entity: "routes" | "services" | "consumers") =>
  ({ field, entity, column: `${field}_id`, onDelete: "cascade" }) satisfies ForeignKey;

export const plugins: EntityDefinition<"plugins"> = {
  name: "plugins",
  get schema() {
    return pluginWithConfig();
  },
  get shape() {
    return pluginFields();
  },
  endpointKey: { field: "instance_name", validate: validateName },
  foreignKeys: [
    scopedTo("route", "routes"),
    scopedTo("service", "services"),
    scopedTo("consumer", "consumers"),
  ],
  uniques: [["instance_name"], ["name", "route", "service", "consumer"]],
  timestamps: { unit: "seconds", updatedAt: true },
  // PATCH {"config":{"hide_credentials":true}} keeps the plugin's other settings, as in Kong.
  mergedOnUpdate: ["config"],
  subschema: { key: "name", field: "config", schemaFor: (name) => PLUGIN_CATALOG.get(name)?.config },
  secretPaths: (plugin) =>
    (PLUGIN_CATALOG.get(String(plugin.name))?.secrets ?? []).map((path) => `config.${path}`),
  admin: { path: "plugins", topLevel: true },
  graphql: {
    type: "Plugin",
    keyArg: "idOrName",
    keyName: "instance name",
    description:
      "A configured plugin (Kong's plugin): global, or scoped to a service, a route, a consumer or a " +
      "combination. Field rules are those of REST's `/plugins`.",
  },
  snapshot: true,
};
