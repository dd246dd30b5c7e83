// What the gateway bundles, apart from the configured plugins themselves (those are generated like every
// entity, entities.ts): `enabledPlugins` and `pluginSchema`.
import { z } from "zod";
import { PLUGIN_CATALOG } from "../../plugins/catalog.ts";
import { builder } from "./builder.ts";
import { JsonScalar } from "./json.ts";

const PluginSchemaObject = builder
  .objectRef<{ name: string; priority: number; version: string; config: unknown }>("PluginSchema")
  .implement({
    description:
      "A bundled plugin: its priority and the JSON Schema of its config (REST: `/schemas/plugins/{name}/json-schema`).",
    fields: (t) => ({
      name: t.exposeString("name"),
      priority: t.exposeInt("priority", { description: "Higher runs first (Kong's bundled priorities)." }),
      version: t.exposeString("version"),
      config: t.field({
        type: JsonScalar,
        description: "JSON Schema of `config`.",
        resolve: (s) => s.config,
      }),
    }),
  });

builder.queryFields((t) => ({
  enabledPlugins: t.stringList({
    description: "The plugins this gateway bundles, by name (REST: `GET /plugins/enabled`).",
    resolve: () => [...PLUGIN_CATALOG.keys()].sort(),
  }),
  pluginSchema: t.field({
    type: PluginSchemaObject,
    nullable: true,
    description: "A bundled plugin's config schema; null for a name that is not bundled.",
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }) => {
      const descriptor = PLUGIN_CATALOG.get(name);
      if (!descriptor) return null;
      const { priority, version, config } = descriptor;
      return {
        name,
        priority,
        version,
        config: z.toJSONSchema(config, { io: "input", unrepresentable: "any" }),
      };
    },
  }),
}));
