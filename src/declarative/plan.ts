// The difference between the configuration files describe and the one stored, as decK's diff prints it
// (creating / updating with field changes / deleting, then a summary), and the batch of writes that makes the
// store equal to the files in one transaction. Only entities in scope (every select tag) are deleted.
import type { VerifiedOperation } from "../store/contract.ts";
import { referencesTo } from "../store/entities/index.ts";
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
 * that go with a deleted parent (cascade, listed in the plan).
 */
export async function makePlan(
  desired: DesiredState,
  current: CurrentState,
  selectTags: readonly string[],
): Promise<Plan> {
  const changes: PlannedChange[] = [];
  const saves: VerifiedOperation[] = [];
  const desiredIds = new Set<string>();
  for (const list of desired.values()) for (const d of list) desiredIds.add(d.id);
  const currentById = new Map<string, { entity: EntityName; row: Row }>();
  for (const [entity, rows] of current)
    for (const row of rows) currentById.set(row.id as string, { entity, row });

  // What goes: entities in scope the files do not name, and whatever cascades from them.
  const deleted = new Map<string, { entity: EntityName; row: Row }>();
  const remove = (entity: EntityName, row: Row) => {
    if (deleted.has(row.id as string) || desiredIds.has(row.id as string)) return;
    deleted.set(row.id as string, { entity, row });
    for (const ref of referencesTo(entity)) {
      if (ref.onDelete !== "cascade") continue;
      for (const child of current.get(ref.child) ?? [])
        if (refId(child[ref.field]) === row.id) remove(ref.child, child);
    }
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
    for (const wanted of desired.get(entity) ?? []) {
      for (const natural of naturalKeys(def, wanted.row))
        if (kept.has(natural.key)) throw uniqueViolation(def, natural.group, wanted.row);
      const existing = currentById.get(wanted.id)?.row;
      const label = labelOf(def, wanted.row, wanted.id);
      let fields: FieldChange[] = [];
      if (existing) {
        fields = await fieldChanges(def, existing, wanted.row, wanted.transform);
        if (fields.length === 0) continue;
      }
      const action = existing ? "update" : "create";
      changes.push({ action, entity: singular(entity), id: wanted.id, name: label, fields });
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
      for (const child of current.get(ref.child) ?? []) {
        if (refId(child[ref.field]) !== row.id || deleted.has(child.id as string)) continue;
        if (!desiredIds.has(child.id as string)) throw referencedBy(definition(entity), ref.child);
        late.add(row.id as string);
      }
    }

  const deletions: VerifiedOperation[] = [];
  for (const entity of [...ENTITY_ORDER].reverse()) {
    const def = definition(entity);
    const rows = [...deleted.values()]
      .filter((d) => d.entity === entity)
      .map((d) => d.row)
      .sort((a, b) => labelOf(def, a, a.id as string).localeCompare(labelOf(def, b, b.id as string)));
    for (const row of rows) {
      const id = row.id as string;
      changes.push({
        action: "delete",
        entity: singular(entity),
        id,
        name: labelOf(def, row, id),
        fields: [],
      });
      deletions.push({ entity, action: "delete", id });
    }
  }
  const count = (action: PlannedChange["action"]) => changes.filter((c) => c.action === action).length;
  return {
    changes,
    summary: { created: count("create"), updated: count("update"), deleted: count("delete") },
    operations: [
      ...deletions.filter((op) => !late.has(op.id)),
      ...saves,
      ...deletions.filter((op) => late.has(op.id)),
    ],
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

async function fieldChanges(
  def: EntityDefinition,
  existing: Row,
  wanted: Row,
  transform: boolean,
): Promise<FieldChange[]> {
  const out: FieldChange[] = [];
  for (const field of contentFields(def)) {
    const from = existing[field] ?? null;
    const to = wanted[field] ?? null;
    const hashed = def.hashedFields?.includes(field) ?? false;
    if (hashed && transform && typeof to === "string" && typeof from === "string") {
      if (await verifies(to, from)) continue;
    } else if (sameJson(from, to)) continue;
    const secret = hashed || (def.secretFields?.includes(field) ?? false);
    out.push({ field, from: secret ? REDACTED : from, to: secret ? REDACTED : to });
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

/** decK's text: one line per change, the changed fields under an update, then the summary line. */
export function renderPlan(plan: Pick<Plan, "changes" | "summary">): string {
  const lines: string[] = [];
  const verb = { create: "creating", update: "updating", delete: "deleting" } as const;
  for (const change of plan.changes) {
    lines.push(`${verb[change.action]} ${change.entity} ${change.name}`);
    for (const f of change.fields) lines.push(`  ${f.field}: ${show(f.from)} -> ${show(f.to)}`);
  }
  const { created, updated, deleted } = plan.summary;
  lines.push(`Summary: Created ${created}, Updated ${updated}, Deleted ${deleted}`);
  return `${lines.join("\n")}\n`;
}

function show(value: unknown): string {
  return value === REDACTED ? value : JSON.stringify(value);
}
