// Documents → the configuration they describe: nested children hoisted (the parent reference implied),
// references by endpoint key or id resolved, `_info` defaults and select tags applied, every entity checked
// by the store's own schema, duplicates refused as Kong does, and ids made stable: an entity without an id
// keeps the one already in use for its natural key, or gets a UUIDv5 of it, so a file applied twice yields
// the same ids.
import { isUuid } from "../schemas/common.ts";
import { zodFieldErrors } from "../schemas/from-zod.ts";
import {
  type EntityDefinition,
  type ForeignKey,
  fromRow,
  isRecord,
  type Row,
  toRow,
} from "../store/entity-def.ts";
import type { ParsedDocument } from "./document.ts";
import { type EntityProblem, InvalidConfig, type Location } from "./invalid.ts";
import {
  canonicalJson,
  contentFields,
  definition,
  ENTITY_ORDER,
  type EntityName,
  globalKey,
  type NaturalKey,
  naturalKeys,
  nestedChildren,
  singular,
} from "./model.ts";
import { uuidV5 } from "./uuid-v5.ts";

/** What the store holds now: every entity as rendered, by DAO name. */
export type CurrentState = ReadonlyMap<EntityName, readonly Row[]>;

export type DesiredEntity = {
  id: string;
  /** The content fields as the store would render them (foreign keys as `{id}`). */
  row: Row;
  /** Hashed fields are given in clear text (`_transform: true`) and still need hashing when written. */
  transform: boolean;
};

export type DesiredState = Map<EntityName, DesiredEntity[]>;

/** Which current entities a configuration owns: all of them, or those carrying every select tag. */
export function inScope(row: Row, selectTags: readonly string[]): boolean {
  if (selectTags.length === 0) return true;
  const tags = Array.isArray(row.tags) ? row.tags : [];
  return selectTags.every((tag) => tags.includes(tag));
}

type Pending = {
  entity: EntityName;
  raw: Record<string, unknown>;
  doc: ParsedDocument;
  location: Location;
  parent?: { fk: ForeignKey; pending: Pending };
  id?: string;
};

export async function desiredState(
  documents: readonly ParsedDocument[],
  current: CurrentState,
  selectTags: readonly string[],
  /** Which current entities the documents own (their select tags, or none: all of them). */
  scopeTags: readonly string[] = selectTags,
): Promise<DesiredState> {
  const problems: EntityProblem[] = [];
  const pending = new Map<EntityName, Pending[]>();

  const collect = (
    entity: EntityName,
    value: unknown,
    doc: ParsedDocument,
    location: Location,
    parent?: Pending["parent"],
  ) => {
    if (!isRecord(value)) {
      problems.push({
        source: doc.source,
        location: location.slice(0, -1),
        fields: { [location.at(-1)!]: "expected a record" },
      });
      return;
    }
    const raw = { ...value };
    const item: Pending = { entity, raw, doc, location, ...(parent ? { parent } : {}) };
    for (const { child, fk } of nestedChildren(entity)) {
      if (!(child in raw)) continue;
      const children = raw[child];
      delete raw[child];
      if (children === null) continue;
      if (!Array.isArray(children)) {
        problems.push({ source: doc.source, location, fields: { [child]: "expected an array" } });
        continue;
      }
      children.forEach((c, i) => {
        collect(child, c, doc, [...location, child, i], { fk, pending: item });
      });
    }
    const list = pending.get(entity) ?? [];
    list.push(item);
    pending.set(entity, list);
  };
  for (const doc of documents)
    for (const entity of ENTITY_ORDER) {
      const list = doc.body[entity];
      if (!Array.isArray(list)) continue;
      list.forEach((value, i) => {
        collect(entity, value, doc, [entity, i]);
      });
    }

  const desired: DesiredState = new Map();
  for (const entity of ENTITY_ORDER) {
    const def = definition(entity);
    const currentRows = current.get(entity) ?? [];
    const currentByKey = new Map<string, string>();
    for (const row of currentRows)
      for (const { key } of naturalKeys(def, row)) currentByKey.set(key, row.id as string);
    const declared = new Map<string, Location>();
    const list: DesiredEntity[] = [];
    for (const item of pending.get(entity) ?? []) {
      const problem = (fields: EntityProblem["fields"]) =>
        problems.push({
          source: item.doc.source,
          location: item.location,
          entity: {
            type: singular(entity),
            ...(typeof displayKey(def, item.raw) === "string" ? { name: displayKey(def, item.raw)! } : {}),
            ...(typeof item.raw.id === "string" ? { id: item.raw.id } : {}),
            tags: item.raw.tags,
            raw: item.raw,
          },
          fields,
        });
      const input = withDefaults(item, selectTags);
      const unresolved: Record<string, string> = {};
      for (const fk of def.foreignKeys) {
        if (item.parent?.fk === fk) {
          // A parent that failed its own checks has no id: its children are still checked.
          input[fk.field] = { id: item.parent.pending.id ?? "00000000-0000-4000-8000-000000000000" };
          continue;
        }
        const ref = input[fk.field];
        if (ref === undefined || ref === null) continue;
        const id = resolveReference(fk, ref, desired, current, scopeTags);
        if (id === null)
          unresolved[fk.field] =
            `invalid reference '${fk.field}: ${describeRef(ref)}' (no such entry in '${fk.entity}')`;
        else input[fk.field] = { id };
      }
      // References in JSON fields (a service's client_certificate and ca_certificates) name entities of the
      // files (or kept ones) the same way; `client_certificate: <id>` is Kong's short form of `{id: <id>}`.
      for (const ref of def.references ?? []) {
        const value = input[ref.field];
        if (value === undefined || value === null) continue;
        const given = ref.shape === "record" ? [value] : Array.isArray(value) ? value : [];
        const missing = given.find((v) => resolveReference(ref, v, desired, current, scopeTags) === null);
        if (missing !== undefined)
          unresolved[ref.field] =
            `invalid reference '${ref.field}: ${describeRef(missing)}' (no such entry in '${ref.entity}')`;
        else if (ref.shape === "record")
          input[ref.field] = { id: resolveReference(ref, value, desired, current, scopeTags) };
      }
      if (Object.keys(unresolved).length > 0) {
        problem(unresolved);
        continue;
      }
      const given = input.id;
      delete input.id;
      const prepared = def.prepare && !def.hashedFields ? await def.prepare(input) : input;
      const parsed = def.schema.safeParse(prepared);
      if (!parsed.success) {
        problem(zodFieldErrors(parsed.error));
        continue;
      }
      if (given !== undefined && (typeof given !== "string" || !isUuid(given))) {
        problem({ id: "expected a valid UUID" });
        continue;
      }
      const rendered = fromRow(def, toRow(def, parsed.data as Row)) as Row;
      const row = Object.fromEntries(contentFields(def).map((f) => [f, rendered[f]]));
      const natural = naturalKeys(def, row);
      const keys = natural.map((k) => k.key);
      const clash = natural.find((k) => declared.has(k.key));
      if (clash) {
        problem({ "@entity": [uniquenessMessage(def, clash)] });
        continue;
      }
      const id =
        (given as string | undefined)?.toLowerCase() ??
        keys.map((key) => currentByKey.get(key)).find((known) => known !== undefined) ??
        uuidV5(keys[0] ?? `${entity}|${canonicalJson(row)}`);
      if (declared.has(`id|${id}`)) {
        problem({
          "@entity": [
            `uniqueness violation: '${entity}' entity with primary key set to '${id}' already declared`,
          ],
        });
        continue;
      }
      for (const key of [...keys, `id|${id}`]) declared.set(key, item.location);
      item.id = id;
      list.push({ id, row, transform: item.doc.transform });
    }
    desired.set(entity, list);
  }
  if (problems.length > 0) throw new InvalidConfig(problems);
  return desired;
}

function displayKey(def: EntityDefinition, raw: Record<string, unknown>): string | undefined {
  const value = def.endpointKey ? raw[def.endpointKey.field] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** The entity as written, with `_info.defaults` for absent fields and the select tags added. */
function withDefaults(item: Pending, selectTags: readonly string[]): Record<string, unknown> {
  const defaults = item.doc.defaults[singular(item.entity)] ?? {};
  const input: Record<string, unknown> = { ...defaults, ...item.raw };
  // Timestamps are the store's; a Kong export carries them, and they are neither compared nor written.
  delete input.created_at;
  delete input.updated_at;
  if (selectTags.length > 0) {
    const tags = Array.isArray(input.tags) ? [...(input.tags as unknown[])] : [];
    for (const tag of selectTags) if (!tags.includes(tag)) tags.push(tag);
    input.tags = tags;
  }
  return input;
}

function describeRef(ref: unknown): string {
  if (typeof ref === "string") return ref;
  if (isRecord(ref)) return String(ref.id ?? ref.name ?? ref.username ?? JSON.stringify(ref));
  return JSON.stringify(ref);
}

/**
 * A top-level child's parent, by id or endpoint key (`service: my-svc`, `{id: …}`, `{name: …}`): first in the
 * files, then among current entities the files do not own (select tags), which stay as they are.
 */
function resolveReference(
  fk: { entity: EntityName },
  ref: unknown,
  desired: DesiredState,
  current: CurrentState,
  selectTags: readonly string[],
): string | null {
  const parent = definition(fk.entity);
  let id: string | undefined;
  let key: string | undefined;
  if (typeof ref === "string") {
    if (isUuid(ref)) id = ref.toLowerCase();
    else key = ref;
  } else if (isRecord(ref)) {
    if (typeof ref.id === "string") id = ref.id.toLowerCase();
    else {
      const field = parent.endpointKey?.field;
      const value = (field ? ref[field] : undefined) ?? ref.name;
      if (typeof value === "string") key = value;
    }
  }
  const declared = desired.get(fk.entity) ?? [];
  const kept =
    selectTags.length === 0 ? [] : (current.get(fk.entity) ?? []).filter((row) => !inScope(row, selectTags));
  if (id !== undefined)
    return declared.some((d) => d.id === id) || kept.some((row) => row.id === id) ? id : null;
  if (key === undefined) return null;
  const found =
    declared.find((d) => globalKey(parent, d.row) === key)?.id ??
    (kept.find((row) => globalKey(parent, row) === key)?.id as string | undefined);
  return found ?? null;
}

function uniquenessMessage(def: EntityDefinition, key: NaturalKey): string {
  const secret = (f: string) => def.secretFields?.includes(f) ?? false;
  const parts = key.group.map((f, i) => `${f} set to '${secret(f) ? "<redacted>" : String(key.values[i])}'`);
  return `uniqueness violation: '${def.name}' entity with ${parts.join(", ")} already declared`;
}
