// The difference between the configuration files describe and the one stored, as decK's diff prints it
// (creating / updating with field changes / deleting, then a summary), and the batch of writes that makes the
// store equal to the files in one transaction. Only entities in scope (every select tag) are deleted.
import type { BatchStep } from "../store/contract.ts";
import { referencesTo } from "../store/entities/index.ts";
import { type EntityDefinition, isRecord, type Row } from "../store/entity-def.ts";
import { type CurrentState, type DesiredState, inScope } from "./desired.ts";
import {
  canonicalJson,
  contentFields,
  definition,
  ENTITY_ORDER,
  type EntityName,
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
  /** The writes, in an order the store's rules accept, for one transaction. */
  steps: BatchStep[];
};

const REDACTED = "<redacted>";

export async function makePlan(
  desired: DesiredState,
  current: CurrentState,
  selectTags: readonly string[],
): Promise<Plan> {
  const changes: PlannedChange[] = [];
  const upserts: BatchStep[] = [];
  const deletes: { entity: EntityName; row: Row }[] = [];
  const desiredIds = new Set<string>();
  for (const list of desired.values()) for (const d of list) desiredIds.add(d.id);

  for (const entity of ENTITY_ORDER) {
    const def = definition(entity);
    const currentById = new Map((current.get(entity) ?? []).map((row) => [row.id as string, row]));
    for (const wanted of desired.get(entity) ?? []) {
      const existing = currentById.get(wanted.id);
      const label = labelOf(def, wanted.row, wanted.id);
      const step: BatchStep = {
        entity,
        action: "upsert",
        key: wanted.id,
        input: { ...wanted.row },
        // Clear-text secrets of a `_transform: true` file are hashed by the store; all else is final.
        prepared: !(wanted.transform && def.hashedFields),
      };
      if (!existing) {
        changes.push({ action: "create", entity: singular(entity), id: wanted.id, name: label, fields: [] });
        upserts.push(step);
        continue;
      }
      const fields = await fieldChanges(def, existing, wanted.row, wanted.transform);
      if (fields.length === 0) continue;
      changes.push({ action: "update", entity: singular(entity), id: wanted.id, name: label, fields });
      upserts.push(step);
    }
  }
  for (const entity of [...ENTITY_ORDER].reverse()) {
    const def = definition(entity);
    const rows = [...(current.get(entity) ?? [])].sort((a, b) =>
      labelOf(def, a, a.id as string).localeCompare(labelOf(def, b, b.id as string)),
    );
    for (const row of rows) {
      if (desiredIds.has(row.id as string) || !inScope(row, selectTags)) continue;
      changes.push({
        action: "delete",
        entity: singular(entity),
        id: row.id as string,
        name: labelOf(def, row, row.id as string),
        fields: [],
      });
      deletes.push({ entity, row });
    }
  }

  // Deletes go first (a name freed before another entity takes it), children before parents; a parent whose
  // child moves elsewhere is deleted after the move (Kong refuses to delete a service routes still use).
  const late = (entity: EntityName, row: Row) =>
    referencesTo(entity).some(
      (ref) =>
        ref.onDelete === "restrict" &&
        (current.get(ref.child) ?? []).some(
          (child) => desiredIds.has(child.id as string) && refId(child[ref.field]) === row.id,
        ),
    );
  const deleteStep = ({ entity, row }: { entity: EntityName; row: Row }): BatchStep => ({
    entity,
    action: "delete",
    key: row.id as string,
  });
  const steps = [
    ...deletes.filter((d) => !late(d.entity, d.row)).map(deleteStep),
    ...upserts,
    ...deletes.filter((d) => late(d.entity, d.row)).map(deleteStep),
  ];
  const count = (action: PlannedChange["action"]) => changes.filter((c) => c.action === action).length;
  return {
    changes,
    summary: { created: count("create"), updated: count("update"), deleted: count("delete") },
    steps,
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
    } else if (canonicalJson(from) === canonicalJson(to)) continue;
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
