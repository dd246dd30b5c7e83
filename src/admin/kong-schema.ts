// Kong's rendering of a schema — what `GET /schemas/{entity}` answers (kong/api/api_helpers.lua's
// schema_to_jsonable over a kong/db/schema definition): `{"fields": [{"<name>": {type, required, default,
// one_of, between, …}}, …], "entity_checks": […]}` — read off a zod schema. zod holds types, ranges, enums,
// defaults and nullability; what it cannot hold (references, uniqueness, store-generated fields, entity
// checks) comes in as metadata. Pure: no store, no HTTP. It reads zod through zod-walk.ts, like every other
// reader of the schemas, and probes what absence and null do.
import type { z } from "zod";
import { walkValue, type ZodNode } from "./zod-walk.ts";

export type KongType =
  | "string"
  | "integer"
  | "number"
  | "boolean"
  | "array"
  | "set"
  | "map"
  | "record"
  | "foreign";

export type KongField = {
  type: KongType;
  required?: boolean;
  default?: unknown;
  one_of?: readonly unknown[];
  between?: readonly [number, number];
  len_min?: number;
  len_max?: number;
  uuid?: true;
  auto?: true;
  timestamp?: true;
  unique?: true;
  reference?: string;
  on_delete?: "cascade";
  eq?: null;
  abstract?: true;
  elements?: KongField;
  keys?: KongField;
  values?: KongField;
  fields?: KongFields;
};

/** Kong's field list: one single-key object per field, in definition order. */
export type KongFields = Record<string, KongField>[];
export type KongEntityCheck = Readonly<Record<string, unknown>>;
export type KongSchema = { fields: KongFields; entity_checks: KongEntityCheck[] };

// --- values and fields ---------------------------------------------------------------------------

function parse(schema: z.ZodType, value: unknown): { success: boolean; data?: unknown } {
  try {
    return schema.safeParse(value);
  } catch {
    return { success: false };
  }
}

/**
 * What absence and null do, probed rather than read (a preprocess step that maps null to the default is
 * opaque to any walk): Kong's `required` is "never null once defaults are applied" — null refused, and
 * absence either refused or filled — and the default is what absence is filled with.
 */
function presence(schema: z.ZodType): Pick<KongField, "required" | "default"> {
  const absent = parse(schema, undefined);
  const filled = absent.success ? absent.data : undefined;
  const required = !parse(schema, null).success && (!absent.success || filled !== undefined);
  return {
    ...(required ? { required: true } : {}),
    // A default of null is what an unset field is anyway; Kong leaves it unsaid.
    ...(filled !== undefined && filled !== null ? { default: filled } : {}),
  };
}

function enumType(values: readonly unknown[]): KongType {
  if (values.every((v) => Number.isInteger(v))) return "integer";
  if (values.every((v) => typeof v === "number")) return "number";
  if (values.every((v) => typeof v === "boolean")) return "boolean";
  return "string";
}

function lengths(node: { minLength?: number; maxLength?: number }, implicitMin: number) {
  return {
    // Kong refuses empty strings unless told otherwise, so a string's len_min of 1 goes unsaid.
    ...(node.minLength !== undefined && node.minLength > implicitMin ? { len_min: node.minLength } : {}),
    ...(node.maxLength !== undefined ? { len_max: node.maxLength } : {}),
  };
}

/** One node of the zod walk in Kong's words. */
function fromNode(node: ZodNode): KongField {
  switch (node.type) {
    case "string":
      return { type: "string", ...lengths(node, 1), ...(node.uuid ? { uuid: true } : {}) };
    case "number": {
      const range = node.min !== undefined && node.max !== undefined;
      return {
        type: node.integer ? "integer" : "number",
        ...(range ? { between: [node.min!, node.max!] } : {}),
      };
    }
    case "boolean":
      return { type: "boolean" };
    case "enum":
      return { type: enumType(node.values), one_of: node.values };
    case "array":
      return { type: node.set ? "set" : "array", ...lengths(node, 0), elements: fromNode(node.item) };
    case "map":
      return { type: "map", keys: fromNode(node.key), values: fromNode(node.value) };
    case "record":
      return {
        type: "record",
        fields: Object.entries(node.fields).map(([name, field]) => ({
          [name]: { ...fromNode(field.node), ...presence(field.schema) },
        })),
      };
    default:
      // Kong has no "anything" type; a value Portico cannot type is a string, as form bodies read it.
      return { type: "string" };
  }
}

/** A value's type and constraints (no `required`/`default`: Kong gives those only to fields). */
export function kongValue(schema: z.ZodType): KongField {
  return fromNode(walkValue(schema));
}

/** A field as Kong renders it: its value's type and constraints, whether it is required, its default. */
export function kongField(schema: z.ZodType): KongField {
  return { ...kongValue(schema), ...presence(schema) };
}

// --- entities ----------------------------------------------------------------------------------

export type KongReference = { field: string; entity: string; onDelete: "cascade" | "restrict" };

export type KongSchemaInput = {
  /** The fields' own zod schemas. */
  shape: Readonly<Record<string, z.ZodType>>;
  /** The rendered fields, in order (write-only shorthands such as a service's `url` are not fields). */
  fields: readonly string[];
  /** Foreign keys: `{id}` references to another entity. */
  references: readonly KongReference[];
  /** Groups of fields unique together; a group of one is Kong's `unique: true`. */
  uniques: readonly (readonly string[])[];
  /** Set by the store when absent (ids, timestamps, generated keys): Kong's `auto`, never `required`. */
  auto: readonly string[];
  /** Auto fields holding Unix timestamps. */
  timestamps: readonly string[];
  /** Records whose fields depend on another field (a plugin's config): Kong's abstract record. */
  abstract?: readonly string[];
  /** Attributes zod cannot carry, merged into the field (e.g. the allowed values of a refined number). */
  attributes?: Readonly<Record<string, Partial<KongField>>>;
  entityChecks?: readonly KongEntityCheck[];
};

function entityField(input: KongSchemaInput, name: string, schema: z.ZodType): KongField {
  if (input.abstract?.includes(name)) return { type: "record", abstract: true };
  const reference = input.references.find((r) => r.field === name);
  const field: KongField = reference
    ? {
        type: "foreign",
        reference: reference.entity,
        ...(presence(schema).required ? { required: true } : {}),
        // restrict is Kong's default and goes unsaid.
        ...(reference.onDelete === "cascade" ? { on_delete: "cascade" as const } : {}),
      }
    : kongField(schema);
  if (input.uniques.some((group) => group.length === 1 && group[0] === name)) field.unique = true;
  if (input.auto.includes(name)) {
    delete field.required;
    delete field.default;
    field.auto = true;
  }
  if (input.timestamps.includes(name)) field.timestamp = true;
  return { ...field, ...input.attributes?.[name] };
}

export function toKongSchema(input: KongSchemaInput): KongSchema {
  return {
    fields: input.fields.map((name) => {
      const schema = input.shape[name];
      if (!schema) throw new Error(`field '${name}' is not in the schema`);
      return { [name]: entityField(input, name, schema) };
    }),
    entity_checks: [...(input.entityChecks ?? [])],
  };
}

// --- plugins -----------------------------------------------------------------------------------

export type KongPluginSchemaInput = {
  config: z.ZodType;
  /** The plugin entity's `protocols` field (every bundled plugin declares it, as Kong's do). */
  protocols: z.ZodType;
  /**
   * Scopes the plugin cannot be applied to, which must stay null (Kong's no_consumer, no_route, no_service):
   * an authentication plugin identifies the consumer, so it cannot be scoped to one.
   */
  nullScopes: readonly { field: string; entity: string }[];
  entityChecks?: readonly KongEntityCheck[];
};

/**
 * A plugin's schema as Kong renders `/schemas/plugins/{name}`: the fields the plugin itself declares (its
 * subschema) — the scopes that must stay null, protocols, and its config record expanded.
 */
export function toKongPluginSchema(input: KongPluginSchemaInput): KongSchema {
  const fields: KongFields = input.nullScopes.map(({ field, entity }) => ({
    [field]: { type: "foreign", reference: entity, eq: null },
  }));
  fields.push({ protocols: kongField(input.protocols) }, { config: kongField(input.config) });
  return { fields, entity_checks: [...(input.entityChecks ?? [])] };
}
