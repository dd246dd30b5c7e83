// A declarative file as Kong reads it: YAML or JSON text, decK's `${{ env "PORTICO_X" }}` substitution,
// then the top-level keys (`_format_version` required, `_transform`, `_info` with select_tags and defaults,
// one collection per entity). Entities themselves are checked later, against the store's schemas.
import { isRecord } from "../store/entity-def.ts";
import { type EntityProblem, InvalidConfig, type Location } from "./invalid.ts";
import { isEntityName } from "./model.ts";

export const FORMAT_VERSIONS = ["1.1", "2.1", "3.0"] as const;
const META_KEYS = new Set(["_format_version", "_transform", "_comment", "_workspace", "_info"]);
const ENV_PATTERN = /\$\{\{\s*env\s+"([^"]*)"\s*\}\}/g;
/** As decK substitutes only DECK_* variables, files reach only Portico's own, never the whole environment. */
const ENV_PREFIX = "PORTICO_";

export type ParsedDocument = {
  /** The file it came from (null: an API body). */
  source: string | null;
  transform: boolean;
  selectTags: string[] | null;
  /** `_info.defaults` by singular entity type (`service`, `route`). */
  defaults: Record<string, Record<string, unknown>>;
  body: Record<string, unknown>;
  /** The values `${{ env "PORTICO_X" }}` put into the file: secrets, as far as a diff is concerned. */
  substituted: string[];
  /**
   * What is wrong with the document's own keys (`_format_version`, an unknown collection): reported together
   * with its entities' errors, as Kong checks the whole file at once.
   */
  problems: EntityProblem[];
};

function fail(source: string | null, location: Location, message: string): InvalidConfig {
  const fields = location.length === 0 ? { error: message } : { [location[location.length - 1]!]: message };
  return new InvalidConfig([{ source, location: location.slice(0, -1), fields }]);
}

/** `${{ env "PORTICO_X" }}` → the variable's value; an unset or foreign variable is an error, not "". */
export function substituteEnv(
  text: string,
  variables: Readonly<Record<string, string | undefined>>,
  source: string | null,
  used: string[] = [],
): string {
  return text.replace(ENV_PATTERN, (_match, name: string) => {
    if (!name.startsWith(ENV_PREFIX))
      throw fail(source, [], `environment variable '${name}' cannot be used: only ${ENV_PREFIX}* variables`);
    const value = variables[name];
    if (value === undefined) throw fail(source, [], `environment variable '${name}' is not set`);
    used.push(value);
    return value;
  });
}

/** YAML or JSON text → the document object (Kong: `failed parsing declarative configuration: …`). */
export function parseText(text: string, source: string | null): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.trimStart().startsWith("{") ? JSON.parse(text) : Bun.YAML.parse(text);
  } catch (error) {
    throw fail(source, [], `failed parsing declarative configuration: ${(error as Error).message}`);
  }
  if (!isRecord(value))
    throw fail(source, [], "failed parsing declarative configuration: expected an object");
  return value;
}

/**
 * Checks the top-level keys and reads the metadata. Problems are kept in the document, not thrown, so that the
 * entities are checked too (what cannot be read is left out: a collection that is not a list, bad `_info`).
 */
export function readDocument(body: Record<string, unknown>, source: string | null): ParsedDocument {
  const problems: InvalidConfig[] = [];
  const version = body._format_version;
  if (version === undefined || version === null)
    problems.push(fail(source, ["_format_version"], "required field missing"));
  else if (!(FORMAT_VERSIONS as readonly unknown[]).includes(version))
    problems.push(fail(source, ["_format_version"], `expected one of: ${FORMAT_VERSIONS.join(", ")}`));
  const transform = body._transform ?? true;
  if (typeof transform !== "boolean") problems.push(fail(source, ["_transform"], "expected a boolean"));
  for (const key of Object.keys(body)) {
    if (META_KEYS.has(key)) continue;
    if (!isEntityName(key)) problems.push(fail(source, [key], "unknown field"));
    else if (!Array.isArray(body[key]) && body[key] !== null)
      problems.push(fail(source, [key], "expected an array"));
  }
  const info = body._info ?? {};
  let selectTags: string[] | null = null;
  let defaults: Record<string, Record<string, unknown>> = {};
  if (!isRecord(info)) problems.push(fail(source, ["_info"], "expected a record"));
  else {
    for (const key of Object.keys(info))
      if (key !== "select_tags" && key !== "defaults")
        problems.push(fail(source, ["_info", key], "unknown field"));
    if (info.select_tags !== undefined && info.select_tags !== null) {
      const tags = info.select_tags;
      if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string" && t !== ""))
        problems.push(fail(source, ["_info", "select_tags"], "expected an array of tags"));
      else selectTags = [...new Set(tags as string[])];
    }
    if (info.defaults !== undefined && info.defaults !== null) {
      if (!isRecord(info.defaults) || !Object.values(info.defaults).every(isRecord))
        problems.push(fail(source, ["_info", "defaults"], "expected a record of records"));
      else defaults = info.defaults as Record<string, Record<string, unknown>>;
    }
  }
  return {
    source,
    // A `_transform` that is not a boolean is reported above; the entities are checked as with the default.
    transform: transform !== false,
    selectTags,
    defaults,
    body,
    substituted: [],
    problems: problems.flatMap((p) => p.problems),
  };
}

/** Text of one file → a checked document. */
export function loadText(
  text: string,
  source: string | null,
  variables: Readonly<Record<string, string | undefined>> = {},
): ParsedDocument {
  const substituted: string[] = [];
  const document = readDocument(
    parseText(substituteEnv(text, variables, source, substituted), source),
    source,
  );
  return { ...document, substituted };
}

/** The select tags several files agree on (decK: every file of a sync has the same). */
export function commonSelectTags(documents: readonly ParsedDocument[]): string[] {
  const first = documents[0]?.selectTags ?? null;
  for (const doc of documents.slice(1)) {
    const same =
      (doc.selectTags ?? []).length === (first ?? []).length &&
      (doc.selectTags ?? []).every((t) => first?.includes(t));
    if (!same)
      throw fail(
        doc.source,
        ["_info", "select_tags"],
        `every file must have the same select_tags (${documents[0]!.source ?? "the first"} has ${JSON.stringify(first ?? [])})`,
      );
  }
  return first ?? [];
}
