// The one walk over zod definitions: what a schema holds — its value's type and constraints, and for a field
// whether it may be null, absent or defaulted, with its `.meta()` name and description. The admin API's readers
// of the schemas (REST form typing, the GraphQL generator, Kong's /schemas rendering) map this, never zod's
// internals, so a new zod construct is taught in one place.
import type { z } from "zod";
import { globalRegistry } from "zod";
import { UUID_PATTERN } from "../schemas/common.ts";

/** What `.meta()` on a schema may say: a shared GraphQL type name, and a description. */
type Meta = { graphql?: unknown; description?: unknown };

type Common = {
  /** `.meta({ graphql })`: a named type shared by every field that uses the schema (`Protocol`). */
  name?: string;
  /** The named type's own description (`.meta({ graphql, description })`). */
  description?: string;
};

export type ZodNode = Common &
  (
    | { type: "string"; uuid: boolean; minLength?: number; maxLength?: number }
    | { type: "number"; integer: boolean; min?: number; max?: number }
    | { type: "boolean" }
    /** `z.enum` / `z.literal`: one of these values. */
    | { type: "enum"; values: readonly (string | number | boolean)[] }
    /** `set`: an array whose duplicates collapse (an array piped into a transform, schemas/common.ts). */
    | { type: "array"; set: boolean; item: ZodNode; minLength?: number; maxLength?: number }
    /** `z.record`: free keys. */
    | { type: "map"; key: ZodNode; value: ZodNode }
    /** `z.object`: known fields, in definition order. */
    | { type: "record"; fields: ZodFields }
    /** Anything else (`z.unknown()`, unions): no type to say. */
    | { type: "unknown" }
  );

export type ZodField = {
  node: ZodNode;
  /** The field's own schema, for readers that probe what it does (Kong's required and default). */
  schema: z.ZodType;
  /** `.nullable()` somewhere around the value: null is a value the field keeps. */
  nullable: boolean;
  /** `.optional()` or a default: the field may be absent. */
  optional: boolean;
  /** The default's value, when the field has one (`.default(v)`). */
  default?: unknown;
  /** The field's description: the outermost `.meta({ description })` that is not a named type's own. */
  description?: string;
};

export type ZodFields = Readonly<Record<string, ZodField>>;

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
  defaultValue?: unknown;
  /** A string format of the type itself (`z.uuid()`), not of a check. */
  format?: string;
  checks?: readonly { _zod: { def: CheckDef } }[];
};

const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
const checksOf = (def: ZodDef): CheckDef[] => (def.checks ?? []).map((c) => c._zod.def);
const metaOf = (schema: z.ZodType): Meta | undefined => globalRegistry.get(schema) as Meta | undefined;

const WRAPPERS = new Set(["default", "prefault", "nullable", "optional", "readonly", "nonoptional", "catch"]);

/** An array piped into a transform: Kong's set. */
function isSet(def: ZodDef): boolean {
  return def.type === "pipe" && defOf(def.in!).type === "array" && defOf(def.out!).type === "transform";
}

/**
 * One step towards the schema that decides a value's type: past nullable/default/… wrappers, and through
 * pipes — a preprocess step leads to what it feeds, any other pipe to its input (what the client sends).
 */
function unwrapStep(schema: z.ZodType): z.ZodType | null {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return def.innerType!;
  if (def.type === "pipe" && !isSet(def)) return defOf(def.in!).type === "transform" ? def.out! : def.in!;
  return null;
}

function nameOf(meta: Meta | undefined): Common {
  if (typeof meta?.graphql !== "string") return {};
  return typeof meta.description === "string"
    ? { name: meta.graphql, description: meta.description }
    : { name: meta.graphql };
}

function lengths(checks: CheckDef[]): { minLength?: number; maxLength?: number } {
  const min = checks.find((c) => c.check === "min_length")?.minimum;
  const max = checks.find((c) => c.check === "max_length")?.maximum;
  return {
    ...(min !== undefined ? { minLength: min } : {}),
    ...(max !== undefined ? { maxLength: max } : {}),
  };
}

function bounds(checks: CheckDef[]): { min?: number; max?: number } {
  const min = checks.find((c) => c.check === "greater_than" && c.inclusive)?.value;
  const max = checks.find((c) => c.check === "less_than" && c.inclusive)?.value;
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
}

const isUuidCheck = (check: CheckDef) =>
  check.check === "string_format" &&
  (check.format === "uuid" || check.pattern?.source === UUID_PATTERN.source);

/** A value's type and constraints; a name given at an outer step wins over one further in. */
export function walkValue(schema: z.ZodType): ZodNode {
  const named = nameOf(metaOf(schema));
  const def = defOf(schema);
  const checks = checksOf(def);
  let node: ZodNode;
  if (isSet(def)) {
    const array = walkValue(def.in!);
    node = array.type === "array" ? { ...array, set: true } : array;
  } else {
    const inner = unwrapStep(schema);
    if (inner) node = walkValue(inner);
    else
      switch (def.type) {
        case "string":
          node = {
            type: "string",
            uuid: def.format === "uuid" || checks.some(isUuidCheck),
            ...lengths(checks),
          };
          break;
        case "number":
          node = {
            type: "number",
            integer: checks.some((c) => c.check === "number_format" && /int/.test(c.format ?? "")),
            ...bounds(checks),
          };
          break;
        case "boolean":
          node = { type: "boolean" };
          break;
        case "enum":
          node = { type: "enum", values: Object.values(def.entries!) };
          break;
        case "literal":
          node = { type: "enum", values: def.values as (string | number | boolean)[] };
          break;
        case "array":
          node = { type: "array", set: false, item: walkValue(def.element!), ...lengths(checks) };
          break;
        case "record":
          node = { type: "map", key: walkValue(def.keyType!), value: walkValue(def.valueType!) };
          break;
        case "object":
          node = { type: "record", fields: walkFields(def.shape!) };
          break;
        default:
          node = { type: "unknown" };
      }
  }
  return named.name ? { ...node, ...named } : node;
}

/** A field: its value, and what the wrappers around it say (null kept, may be absent, default, description). */
export function walkField(schema: z.ZodType): ZodField {
  const field: ZodField = { node: walkValue(schema), schema, nullable: false, optional: false };
  let insideNamedType = false;
  for (let s: z.ZodType | null = schema; s; s = unwrapStep(s)) {
    const meta = metaOf(s);
    if (typeof meta?.graphql === "string") insideNamedType = true;
    if (!insideNamedType && field.description === undefined && typeof meta?.description === "string")
      field.description = meta.description;
    const def = defOf(s);
    if (def.type === "nullable") field.nullable = true;
    else if (def.type === "optional") field.optional = true;
    else if (def.type === "default" || def.type === "prefault") {
      field.optional = true;
      if (!("default" in field)) field.default = def.defaultValue;
    }
  }
  return field;
}

export function walkFields(shape: Readonly<Record<string, z.ZodType>>): ZodFields {
  const fields: Record<string, ZodField> = {};
  for (const [name, schema] of Object.entries(shape)) fields[name] = walkField(schema);
  return fields;
}
