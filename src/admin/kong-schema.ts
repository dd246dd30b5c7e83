// Kong's rendering of a schema — what `GET /schemas/{entity}` answers (kong/api/api_helpers.lua's
// schema_to_jsonable over a kong/db/schema definition): `{"fields": [{"<name>": {type, required, default,
// one_of, between, …}}, …], "entity_checks": […]}` — read off a zod schema. zod holds types, ranges, enums,
// defaults and nullability; what it cannot hold (references, uniqueness, store-generated fields, entity
// checks) comes in as metadata. Pure: no store, no HTTP. The admin form decoder reads field kinds from here
// too, so there is one walker over zod definitions.
import type { z } from "zod";
import { UUID_PATTERN } from "../schemas/common.ts";

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

// --- zod definitions ---------------------------------------------------------------------------

type CheckDef = {
  check: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
};

type ZodDef = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string | number>;
  values?: readonly unknown[];
  /** A string format of the type itself (`z.uuid()`), not of a check. */
  format?: string;
  checks?: readonly { _zod: { def: CheckDef } }[];
};

const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
const checksOf = (def: ZodDef): CheckDef[] => (def.checks ?? []).map((c) => c._zod.def);

const WRAPPERS = new Set(["default", "prefault", "nullable", "optional", "readonly", "nonoptional", "catch"]);

/**
 * The schema that decides a value's type: past nullable/default/… wrappers, and through pipes — a
 * preprocess step leads to what it feeds, any other pipe to its input (what the client sends).
 */
function unwrapStep(schema: z.ZodType): z.ZodType | null {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return def.innerType!;
  if (def.type === "pipe") return defOf(def.in!).type === "transform" ? def.out! : def.in!;
  return null;
}

function parse(schema: z.ZodType, value: unknown): { success: boolean; data?: unknown } {
  try {
    return schema.safeParse(value);
  } catch {
    return { success: false };
  }
}

/**
 * What absence and null do, probed rather than read (a preprocess step that maps null to the default is
 * opaque): Kong's `required` is "never null once defaults are applied" — null refused, and absence either
 * refused or filled — and the default is what absence is filled with.
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

function numberAttributes(checks: CheckDef[]): Pick<KongField, "type" | "between"> {
  const integer = checks.some((c) => c.check === "number_format" && /int/.test(c.format ?? ""));
  const min = checks.find((c) => c.check === "greater_than" && c.inclusive)?.value;
  const max = checks.find((c) => c.check === "less_than" && c.inclusive)?.value;
  return {
    type: integer ? "integer" : "number",
    ...(min !== undefined && max !== undefined ? { between: [min, max] as const } : {}),
  };
}

function lengthAttributes(checks: CheckDef[], implicitMin: number): Pick<KongField, "len_min" | "len_max"> {
  const min = checks.find((c) => c.check === "min_length")?.minimum;
  const max = checks.find((c) => c.check === "max_length")?.maximum;
  return {
    // Kong refuses empty strings unless told otherwise, so a string's len_min of 1 goes unsaid.
    ...(min !== undefined && min > implicitMin ? { len_min: min } : {}),
    ...(max !== undefined ? { len_max: max } : {}),
  };
}

function isUuidCheck(check: CheckDef): boolean {
  return (
    check.check === "string_format" &&
    (check.format === "uuid" || check.pattern?.source === UUID_PATTERN.source)
  );
}

function oneOf(values: readonly unknown[]): KongField {
  const type: KongType = values.every((v) => Number.isInteger(v))
    ? "integer"
    : values.every((v) => typeof v === "number")
      ? "number"
      : values.every((v) => typeof v === "boolean")
        ? "boolean"
        : "string";
  return { type, one_of: values };
}

/** A value's type and constraints (no `required`/`default`: Kong gives those only to fields). */
export function kongValue(schema: z.ZodType): KongField {
  const def = defOf(schema);
  if (def.type === "pipe" && defOf(def.in!).type === "array" && defOf(def.out!).type === "transform")
    // An array piped into a transform is Kong's set (duplicates collapse: schemas/common.ts `set`).
    return { ...kongValue(def.in!), type: "set" };
  const inner = unwrapStep(schema);
  if (inner) return kongValue(inner);
  const checks = checksOf(def);
  switch (def.type) {
    case "string": {
      const uuid = def.format === "uuid" || checks.some(isUuidCheck);
      return { type: "string", ...lengthAttributes(checks, 1), ...(uuid ? { uuid: true } : {}) };
    }
    case "number":
      return numberAttributes(checks);
    case "boolean":
      return { type: "boolean" };
    case "enum":
      return oneOf(Object.values(def.entries!));
    case "literal":
      return oneOf(def.values!);
    case "array":
      return { type: "array", ...lengthAttributes(checks, 0), elements: kongValue(def.element!) };
    case "record":
      return { type: "map", keys: kongValue(def.keyType!), values: kongValue(def.valueType!) };
    case "object":
      return { type: "record", fields: recordFields(def.shape!) };
    default:
      // Kong has no "anything" type; what the form decoder cannot type stays a string.
      return { type: "string" };
  }
}

/** A field as Kong renders it: its value's type and constraints, whether it is required, its default. */
export function kongField(schema: z.ZodType): KongField {
  return { ...kongValue(schema), ...presence(schema) };
}

function recordFields(shape: Record<string, z.ZodType>): KongFields {
  return Object.entries(shape).map(([name, schema]) => ({ [name]: kongField(schema) }));
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
