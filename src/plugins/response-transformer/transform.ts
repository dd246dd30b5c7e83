// response-transformer's operations (kong/plugins/response-transformer/header_transformer.lua and
// body_transformer.lua): remove → rename → replace (only what is present) → add (only what is absent) →
// append, on the response headers and on a JSON body's top-level keys. Pure.
import { splitEntry } from "../request-transformer/entries.ts";
import { appendValue } from "../request-transformer/transform.ts";
import type { ResponseTransformerConfig } from "./schema.ts";

type JsonType = ResponseTransformerConfig["add"]["json_types"][number];

/** An entry with its value cast as its json_types says (null: the entry has no usable value). */
export type JsonEntry = { name: string; value: string | number | boolean | null };
export type HeaderEntry = { name: string; value: string | null };

export type HeaderOps = {
  remove: readonly string[];
  rename: readonly HeaderEntry[];
  replace: readonly HeaderEntry[];
  add: readonly HeaderEntry[];
  append: readonly HeaderEntry[];
};

export type JsonOps = {
  remove: readonly string[];
  rename: readonly HeaderEntry[];
  replace: readonly JsonEntry[];
  add: readonly JsonEntry[];
  append: readonly JsonEntry[];
};

export const entries = (list: readonly string[]): HeaderEntry[] =>
  list.map((entry) => {
    const { name, value } = splitEntry(entry);
    return { name, value: value === "" ? null : value };
  });

/**
 * Kong's json_value: the value as a string, or cast by the type at the same position in json_types — a
 * number that does not parse leaves the entry without a value (skipped), a boolean is whether it is "true".
 */
export function castValue(
  value: string | null,
  type: JsonType | undefined,
): string | number | boolean | null {
  if (value === null) return null;
  if (type === "number") {
    const number = value.trim() === "" ? Number.NaN : Number(value);
    return Number.isFinite(number) ? number : null;
  }
  if (type === "boolean") return value === "true";
  return value;
}

export const jsonEntries = (list: readonly string[], types: readonly JsonType[]): JsonEntry[] =>
  entries(list).map(({ name, value }, i) => ({ name, value: castValue(value, types[i]) }));

export function transformHeaders(headers: Headers, ops: HeaderOps): void {
  for (const name of ops.remove) headers.delete(name);
  for (const { name, value } of ops.rename) {
    const current = headers.get(name);
    if (current === null || value === null) continue;
    headers.delete(name);
    headers.set(value, current);
  }
  for (const { name, value } of ops.replace)
    if (value !== null && headers.has(name)) headers.set(name, value);
  for (const { name, value } of ops.add) if (value !== null && !headers.has(name)) headers.set(name, value);
  for (const { name, value } of ops.append) if (value !== null) headers.append(name, value);
}

/** Lua truthiness of a decoded JSON value: absent and false are false (JSON null is cjson.null, a value). */
const truthy = (value: unknown) => value !== undefined && value !== false;

/** The rewritten body, or null when it is not a JSON object (it then goes out as it came). */
export function transformJson(body: string, ops: JsonOps): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  // A null-prototype copy: a "__proto__" key in the body is data, like any other.
  const json: Record<string, unknown> = Object.assign(Object.create(null), parsed);
  for (const name of ops.remove) delete json[name];
  for (const { name, value } of ops.rename) {
    if (value === null || json[name] === undefined) continue;
    const current = json[name];
    delete json[name];
    json[value] = current;
  }
  for (const { name, value } of ops.replace) if (value !== null && truthy(json[name])) json[name] = value;
  for (const { name, value } of ops.add) if (value !== null && !truthy(json[name])) json[name] = value;
  for (const { name, value } of ops.append) if (value !== null) json[name] = appendValue(json[name], value);
  return JSON.stringify(json);
}

/** Kong's is_json_body: any of the comma-separated media types is exactly application/json. */
export function isJsonBody(contentType: string | null): boolean {
  if (contentType === null) return false;
  return contentType.split(",").some((part) => {
    const semi = part.indexOf(";");
    return (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase() === "application/json";
  });
}
