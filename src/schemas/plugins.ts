// Plugin: a configured instance of a bundled plugin, global or scoped to a route/service/consumer
// (kong/db/schema/entities/plugins.lua). The config is validated by the plugin's own schema when it is
// written (store/entities/plugins.ts) — never per request.
import { z } from "zod";
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
import { lazy } from "./lazy.ts";

export const pluginFields = lazy(() => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  name: text().meta({ description: "Which plugin (see `enabledPlugins`)." }),
  instance_name: nullable(name()),
  route: nullable(foreignRef()),
  service: nullable(foreignRef()),
  consumer: nullable(foreignRef("username")),
  config: z
    .record(z.string(), z.unknown(), { error: typeError("expected a record") })
    .nullable()
    .default(null)
    .meta({
      description:
        "The plugin's settings, keyed as the plugin names them (`{hide_credentials: true}`); omitted settings " +
        "take their defaults, and an update changes only the settings it gives.",
    }),
  protocols: requiredWithDefault(
    set(protocol()).refine((p) => p.length > 0, { error: "length must be at least 1" }),
    [...PROTOCOLS],
  ),
  enabled: requiredWithDefault(boolean(), true),
  tags: tags(),
}));

/**
 * The plugin entity without its config check: which config a plugin takes depends on its name, so the store's
 * plugin definition adds that check from the bundled plugins' descriptors (schemas/ stays a leaf).
 */
export const pluginSchema = lazy(() => z.strictObject(pluginFields(), { error: "expected a record" }));

export type Plugin = Omit<
  z.output<ReturnType<typeof pluginSchema>>,
  "id" | "created_at" | "updated_at" | "route" | "service" | "consumer" | "config"
> & {
  /** The plugin's own settings, defaults filled in by its config schema. */
  config: Record<string, unknown>;
  id: string;
  created_at: number;
  updated_at: number;
  route: { id: string } | null;
  service: { id: string } | null;
  consumer: { id: string } | null;
};
