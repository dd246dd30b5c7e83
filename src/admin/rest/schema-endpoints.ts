// Kong's schema endpoints (kong/api/routes/kong.lua), which Kong Manager renders its forms from:
// GET /schemas/{entity}, GET /schemas/plugins/{name} (the plugin's own fields, config expanded),
// POST /schemas/{entity}/validate and /schemas/plugins/validate (the store's zod schema, nothing written,
// references not looked up — as Kong's schema:validate), and /schemas/plugins/{name}/json-schema (the config
// as JSON Schema, Portico's own). Entity definitions reach the converter only through kongSchemaInput().
import { z } from "zod";
import { PLUGIN_CATALOG } from "../../plugins/catalog.ts";
import type { AnyPluginDescriptor, PluginScoping } from "../../plugins/contract.ts";
import { fromZod } from "../../schemas/from-zod.ts";
import { ENTITIES } from "../../store/entities/index.ts";
import { type EntityDefinition, storedFields } from "../../store/entity-def.ts";
import {
  type KongPluginSchemaInput,
  type KongSchema,
  type KongSchemaInput,
  toKongPluginSchema,
  toKongSchema,
} from "../kong-schema.ts";
import { ENTITY_EXTRAS, PLUGIN_ENTITY_CHECKS } from "../kong-schema-extras.ts";
import { bodyKindsOf } from "./entity-endpoints.ts";
import { HttpError, json, readBody } from "./http.ts";
import type { AdminRouter } from "./router.ts";

/** The adapter: an entity definition as the converter needs it. */
function kongSchemaInput(def: EntityDefinition): KongSchemaInput {
  const extras = ENTITY_EXTRAS[def.name] ?? {};
  const timestamps = def.timestamps.updatedAt ? ["created_at", "updated_at"] : ["created_at"];
  return {
    shape: def.shape,
    fields: storedFields(def),
    references: def.foreignKeys,
    uniques: def.uniques,
    // The store stamps ids and timestamps itself.
    auto: ["id", ...timestamps, ...(extras.generated ?? [])],
    timestamps,
    abstract: extras.abstract,
    attributes: extras.attributes,
    entityChecks: extras.entityChecks,
  };
}

function kongPluginInput(descriptor: AnyPluginDescriptor): KongPluginSchemaInput {
  const plugins = ENTITIES.plugins;
  return {
    config: descriptor.config,
    protocols: plugins.shape.protocols!,
    nullScopes: plugins.foreignKeys.filter((fk) => !descriptor.scoping[fk.field as keyof PluginScoping]),
    entityChecks: PLUGIN_ENTITY_CHECKS[descriptor.name],
  };
}

/** Rendered on first use, not at start-up (the binary starts in tens of milliseconds). */
let schemas: Map<string, KongSchema> | undefined;
let pluginSchemas: Map<string, { kong: KongSchema; jsonSchema: unknown }> | undefined;

function entitySchemas(): Map<string, KongSchema> {
  schemas ??= new Map(
    Object.values(ENTITIES).map((def) => [def.name, toKongSchema(kongSchemaInput(def as EntityDefinition))]),
  );
  return schemas;
}

function definitionNamed(name: string): EntityDefinition {
  if (!entitySchemas().has(name)) throw new HttpError(404, `No entity named '${name}'`);
  return ENTITIES[name as keyof typeof ENTITIES] as EntityDefinition;
}

function pluginNamed(name: string) {
  pluginSchemas ??= new Map(
    [...PLUGIN_CATALOG].map(([plugin, descriptor]) => [
      plugin,
      {
        kong: toKongPluginSchema(kongPluginInput(descriptor)),
        jsonSchema: {
          name: plugin,
          priority: descriptor.priority,
          version: descriptor.version,
          config: z.toJSONSchema(descriptor.config, { io: "input", unrepresentable: "any" }),
        },
      },
    ]),
  );
  const found = pluginSchemas.get(name);
  if (!found) throw new HttpError(404, `No plugin named '${name}'`);
  return found;
}

async function validate(entity: string, request: Request): Promise<Response> {
  const def = definitionNamed(entity);
  const result = def.schema.safeParse(await readBody(request, bodyKindsOf(def)));
  if (!result.success) throw fromZod(result.error);
  return json({ message: "schema validation successful" });
}

export function registerSchemaEndpoints(router: AdminRouter): void {
  // Static segments first: "/schemas/plugins/validate" is not a plugin named "validate".
  router.add("/schemas/plugins/validate", { POST: (request) => validate("plugins", request) });
  router.add("/schemas/plugins/:name/json-schema", {
    GET: (_request, params) => json(pluginNamed(params.name!).jsonSchema),
  });
  router.add("/schemas/plugins/:name", { GET: (_request, params) => json(pluginNamed(params.name!).kong) });
  router.add("/schemas/:entity/validate", {
    POST: (request, params) => validate(params.entity!, request),
  });
  router.add("/schemas/:entity", {
    GET: (_request, params) => {
      definitionNamed(params.entity!);
      return json(entitySchemas().get(params.entity!));
    },
  });
}
