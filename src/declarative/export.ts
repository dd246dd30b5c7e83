// The stored configuration as a declarative document (Kong's db_export / decK's dump): `_format_version
// "3.0"`, `_transform: false` (password hashes as stored), ids kept so the file moves between machines as is,
// timestamps left out. A child with exactly one parent is written inside it; others (a plugin on a route
// and a consumer) at top level with references by the parent's endpoint key, or id. Fields whose absence means
// null are left out when null. Applying the export to an empty gateway and exporting again gives the same.
import { isRecord, type Row } from "../store/entity-def.ts";
import type { CurrentState } from "./desired.ts";
import { inScope } from "./desired.ts";
import { contentFields, definition, ENTITY_ORDER, type EntityName, globalKey } from "./model.ts";

export type ExportOptions = { selectTags?: readonly string[] };

export function exportDocument(current: CurrentState, options: ExportOptions = {}): Record<string, unknown> {
  const selectTags = options.selectTags ?? [];
  const included = new Map<EntityName, Row[]>();
  const ids = new Set<string>();
  for (const entity of ENTITY_ORDER) {
    const rows = (current.get(entity) ?? []).filter((row) => inScope(row, selectTags));
    included.set(entity, sortRows(entity, rows));
    for (const row of rows) ids.add(row.id as string);
  }
  const byId = new Map<string, { entity: EntityName; row: Row }>();
  for (const [entity, rows] of current) for (const row of rows) byId.set(row.id as string, { entity, row });

  /** The one parent a child is nested under, when it has exactly one and that parent is exported too. */
  const nestingParent = (entity: EntityName, row: Row) => {
    const set = definition(entity).foreignKeys.filter((fk) => isRecord(row[fk.field]));
    if (set.length !== 1) return null;
    const parentId = (row[set[0]!.field] as { id: string }).id;
    return ids.has(parentId) ? { fk: set[0]!, parentId } : null;
  };

  const rendered = new Map<string, Record<string, unknown>>();
  const document: Record<string, unknown> = { _format_version: "3.0", _transform: false };
  if (selectTags.length > 0) document._info = { select_tags: [...selectTags] };
  for (const entity of ENTITY_ORDER) {
    const def = definition(entity);
    const topLevel: Record<string, unknown>[] = [];
    for (const row of included.get(entity) ?? []) {
      const nesting = nestingParent(entity, row);
      const out: Record<string, unknown> = { id: row.id };
      for (const field of contentFields(def)) {
        const value = row[field] ?? null;
        const fk = def.foreignKeys.find((f) => f.field === field);
        if (fk) {
          if (nesting?.fk === fk || value === null) continue;
          const parent = byId.get((value as { id: string }).id);
          out[field] =
            (parent && globalKey(definition(parent.entity), parent.row)) ?? (value as { id: string }).id;
          continue;
        }
        if (value === null && absentMeansNull(def.shape[field])) continue;
        out[field] = value;
      }
      rendered.set(row.id as string, out);
      if (nesting) {
        const parent = rendered.get(nesting.parentId)!;
        parent[entity] ??= [];
        (parent[entity] as unknown[]).push(out);
      } else topLevel.push(out);
    }
    if (topLevel.length > 0) document[entity] = topLevel;
  }
  return document;
}

/** Stable, readable order: by endpoint key, then id. */
function sortRows(entity: EntityName, rows: readonly Row[]): Row[] {
  const def = definition(entity);
  const key = (row: Row) => String((def.endpointKey && row[def.endpointKey.field]) ?? "");
  return [...rows].sort((a, b) => key(a).localeCompare(key(b)) || String(a.id).localeCompare(String(b.id)));
}

const absentCache = new WeakMap<object, boolean>();

/** True when leaving the field out is the same as writing null (the schema fills in null). */
function absentMeansNull(
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown } } | undefined,
) {
  if (!schema) return false;
  let known = absentCache.get(schema);
  if (known === undefined) {
    const result = schema.safeParse(undefined);
    known = result.success && (result.data === null || result.data === undefined);
    absentCache.set(schema, known);
  }
  return known;
}
