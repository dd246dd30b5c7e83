// The transformers' `name:value` entries (Kong splits at the first colon and skips any further colons
// right after it), shared by the config checks and the compiled plugins
// (request-transformer and response-transformer).
import { compileTemplate, hasExpression, type Template, TemplateError } from "../template.ts";

/** Kong's `^([^:]+):*(.-)$`: the name, and the value ("" when there is none). */
export function splitEntry(entry: string): { name: string; value: string } {
  const colon = entry.indexOf(":");
  if (colon < 0) return { name: entry, value: "" };
  let start = colon;
  while (entry[start] === ":") start++;
  return { name: entry.slice(0, colon), value: entry.slice(start) };
}

/** A value: fixed text, or a template rendered per request. */
export type Value = string | Template;

/** Compiles a value (only values with `$(…)` become templates); throws TemplateError. */
export function compileValue(value: string): Value {
  return hasExpression(value) ? compileTemplate(value) : value;
}

/** Kong's message for a value whose template is not supported, or null when it compiles. */
export function templateProblem(value: string): string | null {
  try {
    compileValue(value);
    return null;
  } catch (error) {
    if (error instanceof TemplateError)
      return `value '${value}' is not in supported format, error:${error.message}`;
    throw error;
  }
}

/** Kong's header name rule for the transformers (kong.tools.http.validate_header_name). */
const HEADER_NAME = /^[A-Za-z0-9_-]+$/;

/** Kong's validate_headers message for a name that is not a header name, or null. */
export const validHeader = (name: string) =>
  HEADER_NAME.test(name) ? null : `'${name}' is not a valid header`;

/** Kong's validate_colon_headers: both names of a rename entry are header names. */
export function headerRename(entry: string): string | null {
  const { name, value } = splitEntry(entry);
  return validHeader(name) ?? validHeader(value);
}
