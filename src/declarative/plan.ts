// The difference between the configuration files describe and the one stored, as decK's diff prints it
// (creating / updating with field changes / deleting, then a summary), and the batch of writes that makes the
// store equal to the files in one transaction. Only entities in scope (every select tag) are deleted.
import type { VerifiedOperation } from "../store/contract.ts";
import { type Reference, referencesTo } from "../store/entities/index.ts";
import {
  type EntityDefinition,
  isRecord,
  type Row,
  referencedBy,
  timestampNow,
  uniqueViolation,
} from "../store/entity-def.ts";
import { type CurrentState, type DesiredState, inScope } from "./desired.ts";
import {
  contentFields,
  definition,
  ENTITY_ORDER,
  type EntityName,
  naturalKeys,
  sameJson,
  singular,
} from "./model.ts";

export type FieldChange = { field: string; from: unknown; to: unknown };

export type PlannedChange = {
  action: "create" | "update" | "delete";
  /** Kong's singular entity type (`service`). */
  entity: string;
  id: string;
  name: string;
  /** For updates: the fields that change (secrets shown as `<redacted>`). */
  fields: FieldChange[];
};

export type Plan = {
  changes: PlannedChange[];
  summary: { created: number; updated: number; deleted: number };
  /** The writes, in an order the database's constraints accept, for one transaction. */
  operations: VerifiedOperation[];
};

const REDACTED = "<redacted>";

/**
 * Compares, then checks what the store's rules would check one write at a time — against the whole
 * configuration at once: a name another (kept) entity holds, a parent still referenced (restrict), children
 * that go with a deleted parent (cascade, listed in the plan). Entities were validated once, when the
 * desired state was built; here rows are only compared (synchronously, field by field, stopping at the
 * first difference), and only a changed entity pays for describing its changes.
 */
export async function makePlan(
  desired: DesiredState,
  current: CurrentState,
  selectTags: readonly string[],
): Promise<Plan> {
  const changes: PlannedChange[] = [];
  const saves: VerifiedOperation[] = [];
  const summary = { created: 0, updated: 0, deleted: 0 };
  const desiredIds = new Set<string>();
  for (const list of desired.values()) for (const d of list) desiredIds.add(d.id);
  const currentById = new Map<string, Row>();
  for (const rows of current.values()) for (const row of rows) currentById.set(row.id as string, row);
  const children = childIndex(current);

  // What goes: entities in scope the files do not name, and whatever cascades from them.
  const deleted = new Map<string, { entity: EntityName; row: Row }>();
  const remove = (entity: EntityName, row: Row) => {
    if (deleted.has(row.id as string) || desiredIds.has(row.id as string)) return;
    deleted.set(row.id as string, { entity, row });
    for (const ref of referencesTo(entity))
      if (ref.onDelete === "cascade")
        for (const child of children(ref, row.id as string)) remove(ref.child, child);
  };
  for (const entity of ENTITY_ORDER)
    for (const row of current.get(entity) ?? []) if (inScope(row, selectTags)) remove(entity, row);

  for (const entity of ENTITY_ORDER) {
    const def = definition(entity);
    // Names held by entities that stay outside the files' scope.
    const kept = new Map<string, string>();
    for (const row of current.get(entity) ?? [])
      if (!deleted.has(row.id as string) && !desiredIds.has(row.id as string))
        for (const { key } of naturalKeys(def, row)) kept.set(key, row.id as string);
    const fields = contentFields(def);
    for (const wanted of desired.get(entity) ?? []) {
      if (kept.size > 0)
        for (const natural of wanted.keys)
          if (kept.has(natural.key)) throw uniqueViolation(def, natural.group, wanted.row);
      const existing = currentById.get(wanted.id);
      let changed: FieldChange[] = [];
      if (existing) {
        if (sameFields(fields, existing, wanted.row)) continue;
        changed = await fieldChanges(def, existing, wanted.row, wanted.transform);
        if (changed.length === 0) continue;
      }
      const action = existing ? "update" : "create";
      summary[existing ? "updated" : "created"]++;
      changes.push({
        action,
        entity: singular(entity),
        id: wanted.id,
        name: labelOf(def, wanted.row, wanted.id),
        fields: changed,
      });
      const now = timestampNow(def);
      let row: Row = { ...wanted.row, id: wanted.id, created_at: existing?.created_at ?? now };
      if (def.timestamps.updatedAt) row.updated_at = now;
      // Clear-text secrets of a `_transform: true` file are hashed as the admin API would.
      if (wanted.transform && def.hashedFields && def.prepare) row = await def.prepare(row);
      saves.push({ entity, action, id: wanted.id, row });
    }
  }

  // A parent still referenced by a child that stays is refused (Kong's restrict); one whose children move
  // to another parent is deleted after the move.
  const late = new Set<string>();
  for (const { entity, row } of deleted.values())
    for (const ref of referencesTo(entity)) {
      if (ref.onDelete !== "restrict") continue;
      for (const child of children(ref, row.id as string)) {
        if (deleted.has(child.id as string)) continue;
        if (!desiredIds.has(child.id as string)) throw referencedBy(definition(entity), ref.child);
        late.add(row.id as string);
      }
    }

  const deletions: VerifiedOperation[] = [];
  for (const entity of [...ENTITY_ORDER].reverse()) {
    const def = definition(entity);
    const rows = [...deleted.values()]
      .filter((d) => d.entity === entity)
      .map((d) => ({ id: d.row.id as string, name: labelOf(def, d.row, d.row.id as string) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    for (const { id, name } of rows) {
      changes.push({ action: "delete", entity: singular(entity), id, name, fields: [] });
      deletions.push({ entity, action: "delete", id });
      summary.deleted++;
    }
  }
  return {
    changes,
    summary,
    operations: [
      ...deletions.filter((op) => !late.has(op.id)),
      ...saves,
      ...deletions.filter((op) => late.has(op.id)),
    ],
  };
}

function sameFields(fields: readonly string[], a: Row, b: Row): boolean {
  for (const field of fields) if (!sameJson(a[field] ?? null, b[field] ?? null)) return false;
  return true;
}

/** Current children by foreign key and parent id, indexed on first use. */
function childIndex(current: CurrentState): (ref: Reference, parentId: string) => readonly Row[] {
  const indexes = new Map<Reference, Map<string, Row[]>>();
  return (ref, parentId) => {
    let index = indexes.get(ref);
    if (!index) {
      index = new Map();
      for (const child of current.get(ref.child) ?? []) {
        const id = refId(child[ref.field]);
        if (typeof id !== "string") continue;
        const list = index.get(id);
        if (list) list.push(child);
        else index.set(id, [child]);
      }
      indexes.set(ref, index);
    }
    return index.get(parentId) ?? [];
  };
}

function refId(value: unknown): unknown {
  return isRecord(value) ? value.id : undefined;
}

function labelOf(def: EntityDefinition, row: Row, id: string): string {
  const key = def.endpointKey ? row[def.endpointKey.field] : undefined;
  if (def.secretFields?.includes(def.endpointKey?.field ?? "")) return id;
  if (typeof key === "string" && key !== "") return key;
  if (typeof row.name === "string") return `${row.name} ${id}`;
  return id;
}

/**
 * The changes of an update, one per changed value: records (a plugin's config, health checks) are followed
 * down to the values that differ (`config.minute`). Secrets never appear: the entity's secret and hashed
 * fields, and the secret paths inside its records (a plugin's `config.redis.password`), are `<redacted>`.
 */
async function fieldChanges(
  def: EntityDefinition,
  existing: Row,
  wanted: Row,
  transform: boolean,
): Promise<FieldChange[]> {
  const secrets = new Set([...(def.secretPaths?.(existing) ?? []), ...(def.secretPaths?.(wanted) ?? [])]);
  const patterns = [...secrets].map((p) => p.split("."));
  const out: FieldChange[] = [];
  for (const field of contentFields(def)) {
    const from = existing[field] ?? null;
    const to = wanted[field] ?? null;
    if (sameJson(from, to)) continue;
    const hashed = def.hashedFields?.includes(field) ?? false;
    if (
      hashed &&
      transform &&
      typeof to === "string" &&
      typeof from === "string" &&
      (await verifies(to, from))
    )
      continue;
    if (hashed || (def.secretFields?.includes(field) ?? false))
      out.push({ field, from: hidden(from), to: hidden(to) });
    else differences([field], from, to, patterns, out);
  }
  return out;
}

function differences(
  path: string[],
  from: unknown,
  to: unknown,
  secrets: readonly string[][],
  out: FieldChange[],
): void {
  if (isRecord(from) && isRecord(to)) {
    const keys = [...Object.keys(from), ...Object.keys(to).filter((k) => !Object.hasOwn(from, k))];
    for (const key of keys) {
      const a = from[key] ?? null;
      const b = to[key] ?? null;
      if (!sameJson(a, b)) differences([...path, key], a, b, secrets, out);
    }
    return;
  }
  const field = path.join(".");
  if (secrets.some((secret) => covers(secret, path))) out.push({ field, from: hidden(from), to: hidden(to) });
  else out.push({ field, from: masked(from, path, secrets), to: masked(to, path, secrets) });
}

/** True when `secret` is `path` or one of its ancestors (`*` matches any key). */
function covers(secret: readonly string[], path: readonly string[]): boolean {
  return (
    secret.length <= path.length &&
    secret.every((part, i) => part === "*" || path[i] === "*" || part === path[i])
  );
}

/** A secret shown as `<redacted>`; its absence (null) is no secret. */
const hidden = (value: unknown) => (value === null ? null : REDACTED);

/** The value at `path` with the secrets inside it redacted (a whole `redis` record set at once). */
function masked(value: unknown, path: readonly string[], secrets: readonly string[][]): unknown {
  if (!isRecord(value) || !secrets.some((s) => s.length > path.length && covers(path, s))) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const inner = [...path, key];
    out[key] =
      item !== null && secrets.some((secret) => covers(secret, inner))
        ? REDACTED
        : masked(item, inner, secrets);
  }
  return out;
}

async function verifies(clear: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(clear, hash);
  } catch {
    return false;
  }
}

/**
 * decK's text: one line per change, the changed fields under an update, then the summary line. Values the
 * files took from the environment (`substituted`) are shown as `[masked]`, as decK's --mask-secrets does for
 * its DECK_ variables: a string equal to one, or containing one of 8 characters or more (shorter ones would
 * mask ports and names by accident).
 */
export function renderPlan(
  plan: Pick<Plan, "changes" | "summary">,
  substituted: readonly string[] = [],
): string {
  const lines: string[] = [];
  const verb = { create: "creating", update: "updating", delete: "deleting" } as const;
  const secrets = [...new Set(substituted)].filter((s) => s !== "").sort((a, b) => b.length - a.length);
  const mask = (value: unknown) => (secrets.length === 0 ? value : maskSubstituted(value, secrets));
  for (const change of plan.changes) {
    lines.push(`${verb[change.action]} ${change.entity} ${change.name}`);
    for (const f of change.fields) {
      const to = mask(f.to);
      // The stored value of a field that now comes from the environment was likely a secret too (the
      // previous token): it is not shown either.
      const from = show(to) !== show(f.to) && f.from !== null ? MASKED : mask(f.from);
      lines.push(`  ${f.field}: ${show(from)} -> ${show(to)}`);
    }
  }
  const { created, updated, deleted } = plan.summary;
  lines.push(`Summary: Created ${created}, Updated ${updated}, Deleted ${deleted}`);
  return `${lines.join("\n")}\n`;
}

const MASKED = "[masked]";
const MIN_MASKED_SUBSTRING = 8;

function maskSubstituted(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") {
    if (value === REDACTED) return value;
    let out = value;
    for (const secret of secrets)
      if (out === secret) return MASKED;
      else if (secret.length >= MIN_MASKED_SUBSTRING) out = out.replaceAll(secret, MASKED);
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => maskSubstituted(item, secrets));
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSubstituted(v, secrets)]));
  return value;
}

function show(value: unknown): string {
  return value === REDACTED || value === MASKED ? value : JSON.stringify(value);
}
