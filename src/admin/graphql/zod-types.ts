// GraphQL types for zod values (read through the one zod walker): strings, UUIDs (ID), integers, numbers,
// booleans, enums, lists, nested records (an object type and an input type) and maps (the JSON scalar, or a
// list of `{name, values}` entries when the map is named). A value schema with `.meta({ graphql: "X" })` is the
// shared type X (its input `XInput`); an unnamed one is named after where it sits (`UpstreamHealthchecks`).
// Each shape also converts values between the stored (wire) form and the GraphQL form, and names error paths
// as the client wrote them.
import {
  InputListRef,
  type InputObjectRef,
  type InputTypeParam,
  ListRef,
  type ObjectRef,
  type TypeParam,
} from "@pothos/core";
import type { ErrorFields } from "../../errors.ts";
import type { ZodField, ZodFields, ZodNode } from "../zod-walk.ts";
import { type BuilderTypes, builder } from "./builder.ts";
import { camelizeErrors } from "./errors.ts";
import { JsonScalar } from "./json.ts";
import { camelCase } from "./wire.ts";

type Row = Record<string, unknown>;
export type OutputType = TypeParam<BuilderTypes>;
export type InputType = InputTypeParam<BuilderTypes>;

export type Shape = {
  /** The non-null output type (nullability is the field's). */
  output: OutputType;
  input: InputType;
  /** A stored value as this type resolves it. */
  toGraphql(value: unknown): unknown;
  /** A GraphQL input value as the store takes it. */
  toWire(value: unknown): unknown;
  /** Kong's field errors about this value, keyed as the client wrote it. */
  nameErrors(errors: unknown): unknown;
};

const same = (value: unknown) => value;

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

export const pascalCase = (wire: string) => {
  const camel = camelCase(wire);
  return camel[0]!.toUpperCase() + camel.slice(1);
};

/** Field errors of a record: known fields by their GraphQL names (recursively), `@entity` and unknown keys camelCased. */
export function recordErrors(shapes: Readonly<Record<string, Shape>>): (errors: unknown) => unknown {
  return (errors) => {
    if (errors === null || typeof errors !== "object" || Array.isArray(errors)) return errors;
    const out: ErrorFields = {};
    for (const [key, value] of Object.entries(errors)) {
      if (key.startsWith("@")) out[key] = value;
      else out[camelCase(key)] = shapes[key] ? shapes[key].nameErrors(value) : camelizeErrors(value);
    }
    return out;
  };
}

/** A field of a nested record is nullable when it may be null or absent without a default. */
export const isNullableField = (field: ZodField) =>
  field.nullable || (field.optional && field.default === undefined);

const named = new Map<string, { shape: Shape; node: ZodNode }>();

/** The shape of a value; `where` names an unnamed enum or record by its place (`RouteSources`). */
export function shapeOf(node: ZodNode, where: string): Shape {
  if (!node.name) return build(node, where);
  const known = named.get(node.name);
  if (known) {
    if (signature(known.node) !== signature(node))
      throw new Error(`GraphQL type ${node.name} is given to two different zod schemas`);
    return known.shape;
  }
  const shape = build(node, node.name);
  named.set(node.name, { shape, node });
  return shape;
}

/** What makes two schemas one GraphQL type: their structure, not their defaults, lengths or descriptions. */
const IRRELEVANT = new Set(["default", "description", "minLength", "maxLength"]);
const signature = (node: ZodNode) =>
  JSON.stringify(node, (key, value) => (IRRELEVANT.has(key) ? undefined : value));

/** A type that is both an output and an input (a scalar or an enum). */
function scalar(output: OutputType & InputType): Shape {
  return { output, input: output, toGraphql: same, toWire: same, nameErrors: same };
}

function build(node: ZodNode, name: string): Shape {
  switch (node.type) {
    case "string":
      return scalar(node.uuid ? "ID" : "String");
    case "number":
      return scalar(isInt32(node) ? "Int" : "Float");
    case "boolean":
      return scalar("Boolean");
    case "enum":
      return enumShape(node.values, name, node.description);
    case "array": {
      const item = shapeOf(node.item, name);
      const list = (value: unknown, each: (v: unknown) => unknown) =>
        Array.isArray(value) ? value.map(each) : value;
      return {
        output: new ListRef<BuilderTypes, unknown>(item.output, false),
        input: new InputListRef<BuilderTypes, unknown>(item.input, true),
        toGraphql: (value) => list(value, item.toGraphql),
        toWire: (value) => list(value, item.toWire),
        nameErrors: (errors) => list(errors, item.nameErrors),
      };
    }
    case "map":
      return node.name ? entriesShape(node.value, node.name, node.description) : scalar(JsonScalar);
    case "record":
      return recordShape(node.fields, name, node.description);
    case "unknown":
      return scalar(JsonScalar);
  }
}

function isInt32(node: Extract<ZodNode, { type: "number" }>): boolean {
  return node.integer && (node.min ?? 0) >= INT32.min && (node.max ?? 0) <= INT32.max;
}

/** String values become a GraphQL enum (names made valid: `round-robin` → `round_robin`); others a scalar. */
function enumShape(
  values: readonly (string | number | boolean)[],
  name: string,
  description?: string,
): Shape {
  if (values.every((v) => typeof v === "number"))
    return scalar(values.every(Number.isInteger) ? "Int" : "Float");
  if (values.every((v) => typeof v === "boolean")) return scalar("Boolean");
  const names = values.map((v) => String(v).replace(/[^_0-9A-Za-z]/g, "_"));
  const valid =
    values.every((v) => typeof v === "string") &&
    names.every((n) => GRAPHQL_NAME.test(n) && !["true", "false", "null"].includes(n)) &&
    new Set(names).size === names.length;
  if (!valid) return scalar("String");
  const ref = builder.enumType(name, {
    description,
    values: Object.fromEntries(names.map((n, i) => [n, { value: values[i] }])),
  });
  return scalar(ref);
}

/** A nested record: an object type `name` and an input type `nameInput`, fields in camelCase. */
function recordShape(fields: ZodFields, name: string, description?: string): Shape {
  const shapes: Record<string, Shape> = {};
  for (const [wire, field] of Object.entries(fields))
    shapes[wire] = shapeOf(field.node, name + pascalCase(wire));
  const output: ObjectRef<BuilderTypes, Row> = builder.objectRef<Row>(name).implement({
    description,
    fields: (t) =>
      Object.fromEntries(
        Object.entries(fields).map(([wire, field]) => [
          camelCase(wire),
          t.field({
            type: shapes[wire]!.output,
            nullable: isNullableField(field),
            description: field.description,
            resolve: (parent: Row) => shapes[wire]!.toGraphql(parent[wire] ?? null) as never,
          }),
        ]),
      ),
  });
  const input: InputObjectRef<BuilderTypes, Row> = builder.inputType(`${name}Input`, {
    description,
    fields: (t) =>
      Object.fromEntries(
        Object.entries(fields).map(([wire, field]) => [
          camelCase(wire),
          t.field({ type: shapes[wire]!.input, description: field.description }),
        ]),
      ),
  });
  return {
    output,
    input,
    toGraphql: same,
    toWire: (value) => recordToWire(value, shapes),
    nameErrors: recordErrors(shapes),
  };
}

/** A GraphQL input object → the wire record: only the keys given (an explicit null stays null). */
export function recordToWire(value: unknown, shapes: Readonly<Record<string, Shape>>): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const byName = new Map(Object.keys(shapes).map((wire) => [camelCase(wire), wire]));
  const body: Row = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    const wire = byName.get(key) ?? key;
    body[wire] = field === null || !shapes[wire] ? field : shapes[wire].toWire(field);
  }
  return body;
}

/**
 * A named map: a list of `{name, values}` (or `{name, value}`) entries, since GraphQL has no map type
 * (a route's headers). Entry names are data, so errors inside keep them as written.
 */
function entriesShape(valueNode: ZodNode, name: string, description?: string): Shape {
  const value = shapeOf(valueNode, `${name}Value`);
  const key = valueNode.type === "array" ? "values" : "value";
  type Entry = { name: string } & Row;
  const output = builder.objectRef<Entry>(name).implement({
    description,
    fields: (t) => ({
      name: t.string({ resolve: (entry: Entry) => entry.name }),
      [key]: t.field({ type: value.output, resolve: (entry: Entry) => entry[key] as never }),
    }),
  });
  const input = builder.inputType(`${name}Input`, {
    fields: (t) => ({
      name: t.string({ required: true }),
      [key]: t.field({ type: value.input, required: true }),
    }),
  });
  return {
    output: new ListRef<BuilderTypes, unknown>(output, false),
    input: new InputListRef<BuilderTypes, unknown>(input, true),
    toGraphql: (map) =>
      map === null || typeof map !== "object"
        ? map
        : Object.entries(map).map(([entryName, v]) => ({ name: entryName, [key]: value.toGraphql(v) })),
    toWire: (entries) => {
      if (!Array.isArray(entries)) return entries;
      // A name given twice adds its values (a list value) or replaces it.
      const map: Row = {};
      for (const entry of entries as Entry[]) {
        const v = value.toWire(entry[key]);
        const before = map[entry.name];
        map[entry.name] = Array.isArray(before) && Array.isArray(v) ? [...before, ...v] : v;
      }
      return map;
    },
    nameErrors: same,
  };
}
