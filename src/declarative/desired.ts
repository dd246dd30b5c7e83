// Documents → the configuration they describe: nested children hoisted (the parent reference implied),
// references by endpoint key or id resolved, `_info` defaults and select tags applied, every entity checked
// by the store's own schema, duplicates refused as Kong does, and ids made stable: an entity without an id
// keeps the one already in use for its natural key, or gets a UUIDv5 of it, so a file applied twice yields
// the same ids.
import { isUuid } from "../schemas/common.ts";
import { zodFieldErrors } from "../schemas/from-zod.ts";
import { type EntityDefinition, type ForeignKey, isRecord, type Row } from "../store/entity-def.ts";
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
  sameJson,
  singular,
} from "./model.ts";
import { uuidV5 } from "./uuid-v5.ts";

/** What the store holds now: every entity as rendered, by DAO name. */
export type CurrentState = ReadonlyMap<EntityName, readonly Row[]>;

export type DesiredEntity = {
  id: string;
  /** The content fields as the store would render them (foreign keys as `{id}`). */
  row: Row;
  /** Its natural keys (computed once, for the plan's checks). */
  keys: NaturalKey[];
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
  const problems: EntityProblem[] = documents.flatMap((d) => d.problems);
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
    const nested = nestedChildren(entity);
    // The entity without its nested children (copied, not deleted from: objects stay fast to read).
    const raw: Record<string, unknown> = {};
    for (const key in value) if (!nested.some((n) => n.child === key)) raw[key] = value[key];
    const item: Pending = { entity, raw, doc, location, ...(parent ? { parent } : {}) };
    for (const { child, fk } of nested) {
      if (!(child in value)) continue;
      const children = value[child];
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
  let checked = 0;
  for (const entity of ENTITY_ORDER) {
    const def = definition(entity);
    const currentRows = current.get(entity) ?? [];
    const currentById = new Map<string, Row>();
    const currentByKey = new Map<string, string>();
    for (const row of currentRows) {
      currentById.set(row.id as string, row);
      for (const { key } of naturalKeys(def, row)) currentByKey.set(key, row.id as string);
    }
    const declared = new Set<string>();
    const list: DesiredEntity[] = [];
    /** Entities whose only natural key the gateway generates (a key-auth key left out): matched afterwards. */
    const keyless: Keyless[] = [];
    for (const item of pending.get(entity) ?? []) {
      // Checking 10,000 entities takes a few hundred ms of CPU: let the event loop (the admin API, a proxy
      // sharing this thread) have its turn now and then.
      if (++checked % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
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
        problems.push(entityProblem(def, item, unresolved));
        continue;
      }
      const given = item.raw.id;
      const absent = def.generatedFields?.filter((f) => input[f] === undefined || input[f] === null) ?? [];
      const prepared = def.prepare && !def.hashedFields ? await def.prepare(input) : input;
      const parsed = def.schema.safeParse(prepared);
      if (!parsed.success) {
        problems.push(entityProblem(def, item, zodFieldErrors(parsed.error)));
        continue;
      }
      if (given !== undefined && (typeof given !== "string" || !isUuid(given))) {
        problems.push(entityProblem(def, item, { id: "expected a valid UUID" }));
        continue;
      }
      const row = contentOf(def, parsed.data as Row);
      // A generated value the file leaves out says nothing about the entity: it neither names it nor differs.
      const natural =
        absent.length === 0
          ? naturalKeys(def, row)
          : naturalKeys(def, row).filter((k) => !k.group.some((f) => absent.includes(f)));
      if (given === undefined && natural.length === 0 && absent.length > 0) {
        keyless.push({ item, row, absent });
        continue;
      }
      const id =
        (given as string | undefined)?.toLowerCase() ??
        firstKnown(natural, currentByKey) ??
        uuidV5(natural[0]?.key ?? `${entity}|${canonicalJson(row)}`);
      const known = currentById.get(id);
      if (known) for (const field of absent) row[field] = known[field];
      const keys = declare(
        def,
        item,
        id,
        absent.length > 0 ? naturalKeys(def, row) : natural,
        declared,
        problems,
      );
      if (keys) list.push({ id, row, keys, transform: item.doc.transform });
    }
    matchKeyless(def, keyless, currentRows, list, scopeTags);
    for (const { item, row, id } of keyless) {
      const keys = declare(def, item, id!, naturalKeys(def, row), declared, problems);
      if (keys) list.push({ id: id!, row, keys, transform: item.doc.transform });
    }
    desired.set(entity, list);
  }
  if (problems.length > 0) throw new InvalidConfig(problems);
  return desired;
}

const YIELD_EVERY = 500;

type Keyless = { item: Pending; row: Row; absent: readonly string[]; id?: string };

function firstKnown(keys: readonly NaturalKey[], byKey: ReadonlyMap<string, string>): string | undefined {
  for (const { key } of keys) {
    const id = byKey.get(key);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** Records the entity's natural keys and id as declared; null (and a problem) when another entity has one. */
function declare(
  def: EntityDefinition,
  item: Pending,
  id: string,
  natural: NaturalKey[],
  declared: Set<string>,
  problems: EntityProblem[],
): NaturalKey[] | null {
  const clash = natural.find((k) => declared.has(k.key));
  if (clash) {
    problems.push(entityProblem(def, item, { "@entity": [uniquenessMessage(def, clash)] }));
    return null;
  }
  if (declared.has(`id|${id}`)) {
    problems.push(
      entityProblem(def, item, {
        "@entity": [
          `uniqueness violation: '${def.name}' entity with primary key set to '${id}' already declared`,
        ],
      }),
    );
    return null;
  }
  for (const { key } of natural) declared.add(key);
  declared.add(`id|${id}`);
  item.id = id;
  return natural;
}

/**
 * Credentials declared without their generated key take over stored ones of the same parent that no other
 * declaration names — first one whose other fields are equal, then any — keeping the stored key, so a file
 * applied twice is in sync. The rest are new: their id comes from the parent and their place among its
 * key-less declarations, so it is stable, while the key is generated.
 */
function matchKeyless(
  def: EntityDefinition,
  keyless: Keyless[],
  currentRows: readonly Row[],
  declared: readonly DesiredEntity[],
  scopeTags: readonly string[],
): void {
  if (keyless.length === 0) return;
  const taken = new Set(declared.map((d) => d.id));
  const parentsOf = (row: Row) =>
    def.foreignKeys.map((fk) => (isRecord(row[fk.field]) ? (row[fk.field] as Row).id : null)).join(",");
  const candidates = currentRows.filter((row) => inScope(row, scopeTags) && !taken.has(row.id as string));
  const claim = (entry: Keyless, exact: boolean) => {
    const parents = parentsOf(entry.row);
    const found = candidates.find(
      (row) =>
        !taken.has(row.id as string) &&
        parentsOf(row) === parents &&
        (!exact ||
          contentFields(def).every(
            (f) => entry.absent.includes(f) || sameJson(row[f] ?? null, entry.row[f]),
          )),
    );
    if (!found) return;
    taken.add(found.id as string);
    entry.id = found.id as string;
    for (const field of entry.absent) entry.row[field] = found[field];
  };
  for (const entry of keyless) claim(entry, true);
  for (const entry of keyless) if (entry.id === undefined) claim(entry, false);
  const ordinals = new Map<string, number>();
  for (const entry of keyless) {
    const parents = parentsOf(entry.row);
    const ordinal = ordinals.get(parents) ?? 0;
    ordinals.set(parents, ordinal + 1);
    entry.id ??= uuidV5(`${def.name}|generated|${parents}|${ordinal}`);
  }
}

/** The content fields as the store renders them: absent → null, foreign keys as `{id}` or null. */
function contentOf(def: EntityDefinition, entity: Row): Row {
  const row: Row = {};
  for (const field of contentFields(def)) {
    const value = entity[field];
    row[field] = value === undefined ? null : value;
  }
  for (const fk of def.foreignKeys) {
    const ref = row[fk.field] as { id?: unknown } | null;
    row[fk.field] = ref?.id ? { id: ref.id } : null;
  }
  return row;
}

/**
 * Kong's entity error: where it is, what it is, and why. Kong names it by its `name` only; the CLI's lines
 * also by its endpoint key (`acl g`) unless that is a secret.
 */
function entityProblem(def: EntityDefinition, item: Pending, fields: EntityProblem["fields"]): EntityProblem {
  const name = item.raw.name;
  const key = def.endpointKey ? item.raw[def.endpointKey.field] : undefined;
  const secret = def.secretFields?.includes(def.endpointKey?.field ?? "") ?? false;
  return {
    source: item.doc.source,
    location: item.location,
    entity: {
      type: singular(def.name),
      ...(typeof name === "string" ? { name } : {}),
      ...(typeof key === "string" && !secret ? { label: key } : {}),
      ...(typeof item.raw.id === "string" ? { id: item.raw.id } : {}),
      tags: item.raw.tags,
      raw: item.raw,
    },
    fields,
  };
}

/** The entity as written (less its id), with `_info.defaults` for absent fields and the select tags added. */
function withDefaults(item: Pending, selectTags: readonly string[]): Record<string, unknown> {
  const defaults = item.doc.defaults[singular(item.entity)];
  const input: Record<string, unknown> = {};
  // The id is handled apart; timestamps are the store's: a Kong export carries them, and they are neither
  // compared nor written.
  const copy = (from: Record<string, unknown>) => {
    for (const key in from)
      if (key !== "id" && key !== "created_at" && key !== "updated_at") input[key] = from[key];
  };
  if (defaults) copy(defaults);
  copy(item.raw);
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
