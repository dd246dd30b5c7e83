// custom_fields for the log plugins (http-log, file-log): Kong's custom_fields_by_lua runs Lua code per
// request; Portico runs no code from configuration. Instead each custom field is a template over the log
// record itself — `$(request.headers.x-tenant)`, `consumer $(consumer.username)` — parsed when the plugin is
// configured and filled in per request by looking values up, never by evaluating anything. A template that is
// exactly one `$(…)` keeps the value's JSON type (a number stays a number); within text, values are written
// as text and absent ones as "". Field names with dots nest (`latency.total` → {"latency": {"total": …}}), as
// Kong's kong.log.set_serialize_value does.
import { z } from "zod";
import { typeError } from "../schemas/common.ts";
import { lazy } from "../schemas/lazy.ts";

type Part = string | readonly string[];

/** A parsed template: literal text and paths into the record, in order. */
export type FieldTemplate = readonly Part[];

/** Names that would reach an object's prototype instead of a field of the record. */
const UNSAFE_NAMES = new Set(["__proto__", "constructor", "prototype"]);

const PLACEHOLDER = /\$\(([^)]*)\)/g;
const PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Parses a template, or returns why it is not one. */
export function parseTemplate(template: string): FieldTemplate | string {
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const path = match[1]!.trim();
    if (!PATH.test(path))
      return `'$(${match[1]})' is not a field of the log record (expected a dotted path such as request.headers.x-tenant)`;
    if (match.index > last) parts.push(template.slice(last, match.index));
    parts.push(path.split("."));
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  const rest = parts.filter((p) => typeof p === "string").join("");
  if (rest.includes("$(")) return "an unclosed '$(' in the template";
  return parts;
}

function lookup(record: unknown, path: readonly string[]): unknown {
  let value = record;
  for (const key of path) {
    // Own fields only: `constructor`, `__proto__` and the like are never found.
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function render(template: FieldTemplate, record: unknown): unknown {
  if (template.length === 1 && typeof template[0] !== "string") return lookup(record, template[0]!) ?? null;
  let out = "";
  for (const part of template) {
    if (typeof part === "string") out += part;
    else {
      const value = lookup(record, part);
      if (value !== undefined && value !== null)
        out += typeof value === "object" ? JSON.stringify(value) : String(value);
    }
  }
  return out;
}

/** Compiled custom fields: name path → template. */
export type CustomFields = readonly { name: readonly string[]; template: FieldTemplate }[];

export function compileCustomFields(fields: Record<string, string> | null): CustomFields {
  if (fields === null) return [];
  // The schema refuses these names; a configuration written before that check is still kept off prototypes.
  const safe = Object.entries(fields).filter(
    ([name]) => !name.split(".").some((part) => UNSAFE_NAMES.has(part)),
  );
  return safe.map(([name, template]) => ({
    name: name.split("."),
    template: parseTemplate(template) as FieldTemplate,
  }));
}

/** Adds the custom fields to a record (every template reads the record as it was before any was added). */
export function applyCustomFields(record: Record<string, unknown>, fields: CustomFields): void {
  if (fields.length === 0) return;
  const values = fields.map((f) => render(f.template, record));
  fields.forEach((field, i) => {
    let target = record;
    for (const key of field.name.slice(0, -1)) {
      const next = target[key];
      if (typeof next !== "object" || next === null || Array.isArray(next)) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[field.name.at(-1)!] = values[i];
  });
}

/** `custom_fields`: field name → template, validated when the plugin is written. */
export const customFieldsSchema = lazy(() =>
  z
    .record(
      z.string(),
      z.string({ error: typeError("expected a string") }).superRefine((template, ctx) => {
        const parsed = parseTemplate(template);
        if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
      }),
      { error: typeError("expected a map") },
    )
    // Names are checked here: an issue on a record's key would be reported as the record's type error.
    .superRefine((fields, ctx) => {
      for (const name of Object.keys(fields)) {
        if (!PATH.test(name))
          ctx.addIssue({
            code: "custom",
            message: `'${name}' is not a field name, or a dotted path of names`,
          });
        else if (name.split(".").some((part) => UNSAFE_NAMES.has(part)))
          ctx.addIssue({
            code: "custom",
            message: "__proto__, constructor and prototype are not allowed in field names",
          });
      }
    })
    .nullable()
    .default(null),
);

/**
 * Kong's `custom_fields_by_lua`: accepted empty (null or {}) so Kong configurations and decK files load; any
 * Lua code is refused, pointing at `custom_fields`.
 */
export const customFieldsByLuaSchema = lazy(() =>
  z
    .record(z.string(), z.string({ error: typeError("expected a string") }), {
      error: typeError("expected a map"),
    })
    .nullable()
    .default(null)
    .refine((value) => value === null || Object.keys(value).length === 0, {
      error:
        'Portico does not run Lua code: use custom_fields templates such as "$(request.headers.x-tenant)"',
    }),
);
