// What the declarative format knows about entities, derived from their definitions alone (store/entities/):
// which collections a file may hold, which children nest under which parent, the order parents come before
// children, an entity's natural keys (its unique groups) and the stable ids made from them. An entity added
// to ENTITIES is part of the format without a change here.
import { ENTITIES, ENTITY_NAMES } from "../store/entities/index.ts";
import {
  type EntityDefinition,
  type EntityName,
  type ForeignKey,
  isRecord,
  type Row,
  storedFields,
} from "../store/entity-def.ts";

export type { EntityName, Row } from "../store/entity-def.ts";

export function definition(name: EntityName): EntityDefinition {
  return ENTITIES[name] as EntityDefinition;
}

export function isEntityName(key: string): key is EntityName {
  return Object.hasOwn(ENTITIES, key);
}

/** Kong's singular entity type (`service`, `keyauth_credential`), as in `_info.defaults` and flattened errors. */
export function singular(name: EntityName): string {
  return name.endsWith("s") ? name.slice(0, -1) : name;
}

/** Parents before children (foreign keys point backwards), so references resolve in one pass. */
export const ENTITY_ORDER: readonly EntityName[] = (() => {
  const order: EntityName[] = [];
  const visit = (name: EntityName, path: Set<EntityName>) => {
    if (order.includes(name) || path.has(name)) return;
    path.add(name);
    for (const fk of definition(name).foreignKeys) if (fk.entity !== name) visit(fk.entity, path);
    // A certificate a service names must exist before the service is written.
    for (const ref of definition(name).references ?? []) visit(ref.entity, path);
    order.push(name);
  };
  for (const name of ENTITY_NAMES) visit(name, new Set());
  return order;
})();

/** The children that may be written inside a parent, under their collection name (`services[].routes[]`). */
export function nestedChildren(parent: EntityName): readonly { child: EntityName; fk: ForeignKey }[] {
  let list = NESTED.get(parent);
  if (!list) {
    list = [];
    for (const child of ENTITY_NAMES)
      for (const fk of definition(child).foreignKeys) if (fk.entity === parent) list.push({ child, fk });
    NESTED.set(parent, list);
  }
  return list;
}

const NESTED = new Map<EntityName, { child: EntityName; fk: ForeignKey }[]>();

/** Fields compared and written: stored fields less the id and the store's timestamps. */
export function contentFields(def: EntityDefinition): readonly string[] {
  let fields = CONTENT_FIELDS.get(def);
  if (!fields) {
    fields = storedFields(def).filter((f) => f !== "id" && f !== "created_at" && f !== "updated_at");
    CONTENT_FIELDS.set(def, fields);
  }
  return fields;
}

const CONTENT_FIELDS = new WeakMap<EntityDefinition, readonly string[]>();

/** Deep equality of JSON values (key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameJson(item, other[i]));
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && sameJson((a as Row)[k], (b as Row)[k]));
}

/** The endpoint key's value when it names the entity on its own (not only under a parent). */
export function globalKey(def: EntityDefinition, entity: Row): string | null {
  if (!def.endpointKey || def.endpointKeyScope) return null;
  const value = entity[def.endpointKey.field];
  return typeof value === "string" ? value : null;
}

/** How plans and errors name an entity: its endpoint key, else its id. */
export function displayName(def: EntityDefinition, entity: Row): string {
  const key = def.endpointKey ? entity[def.endpointKey.field] : undefined;
  if (typeof key === "string" || typeof key === "number") return String(key);
  return String(entity.id ?? "(no id)");
}

/**
 * The entity's natural keys: one string per unique group that identifies it (a single field that is set, or
 * a composite where null is a value), foreign fields by id. Equal strings mean the same entity.
 */
export function naturalKeys(def: EntityDefinition, entity: Row): NaturalKey[] {
  const keys: NaturalKey[] = [];
  for (const group of def.uniques) {
    const values = group.map((field) => {
      const value = entity[field] ?? null;
      return def.foreignKeys.some((fk) => fk.field === field) && isRecord(value) ? (value.id ?? null) : value;
    });
    if (group.length === 1 && values[0] === null) continue;
    keys.push({ key: `${def.name}|${group.join(",")}|${JSON.stringify(values)}`, group, values });
  }
  return keys;
}

export type NaturalKey = { key: string; group: readonly string[]; values: unknown[] };

/** JSON with sorted keys: equal values give equal strings (comparison, hashing). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    isRecord(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}
