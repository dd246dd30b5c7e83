// What the store needs to know about each entity, independent of the SQL dialect: its schema, its
// endpoint key, its references and how a row maps to the rendered entity.
import type { z } from "zod";
import { GatewayError } from "../errors.ts";
import { isUuid, validateName } from "../schemas/common.ts";
import { ROUTE_FIELDS, type Route, routeSchema } from "../schemas/routes.ts";
import { SERVICE_FIELDS, type Service, serviceSchema } from "../schemas/services.ts";
import type { EntityMap, EntityName } from "./repository.ts";

export type ForeignKeyDef = { field: string; entity: EntityName; column: string };

export type EntityDef<N extends EntityName> = {
  name: N;
  schema: z.ZodType;
  /** Kong's endpoint key: the unique field that can stand for the id in URLs. */
  endpointKey: "name";
  /** Rendering order; every field is rendered, unset ones as null. */
  fields: readonly string[];
  foreignKeys: readonly ForeignKeyDef[];
  /** Entities whose rows point at this one: deleting a referenced row is refused (Kong code 4). */
  referencedBy: readonly { entity: EntityName; column: string }[];
  toRow(entity: EntityMap[N]): Record<string, unknown>;
  fromRow(row: Record<string, unknown>): EntityMap[N];
};

export const serviceDef: EntityDef<"services"> = {
  name: "services",
  schema: serviceSchema,
  endpointKey: "name",
  fields: SERVICE_FIELDS,
  foreignKeys: [],
  referencedBy: [{ entity: "routes", column: "service_id" }],
  toRow: (service) => ({ ...service }),
  fromRow: (row) => pick(row, SERVICE_FIELDS) as Service,
};

export const routeDef: EntityDef<"routes"> = {
  name: "routes",
  schema: routeSchema,
  endpointKey: "name",
  fields: ROUTE_FIELDS,
  foreignKeys: [{ field: "service", entity: "services", column: "service_id" }],
  referencedBy: [],
  toRow: ({ service, ...route }) => ({ ...route, service_id: service?.id ?? null }),
  fromRow: (row) => {
    const route = pick(row, ROUTE_FIELDS) as Route;
    route.service = row.service_id ? { id: row.service_id as string } : null;
    return route;
  },
};

export const ENTITY_DEFS = { services: serviceDef, routes: routeDef } as const;

function pick(row: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) out[field] = row[field] ?? null;
  return out;
}

/** How a URL segment names an entity: by id when it is a UUID, else by endpoint key (validated first). */
export type EntityKey = { column: "id"; value: string } | { column: "name"; value: string };

export function parseEntityKey(key: string): EntityKey {
  if (isUuid(key)) return { column: "id", value: key.toLowerCase() };
  const invalid = validateName(key);
  if (invalid) throw new GatewayError("INVALID_UNIQUE", invalid, undefined, "invalid unique name");
  return { column: "name", value: key };
}

export function describeKey(key: EntityKey): string {
  return `{${key.column}="${key.value}"}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Kong's offsets are opaque base64; ours encode the last primary key of the page. */
export function encodeOffset(id: string): string {
  return Buffer.from(id, "utf8").toString("base64");
}

export function decodeOffset(offset: string): string {
  const invalid = () =>
    new GatewayError("INVALID_OFFSET", `'${offset}' is not a valid offset: bad base64 encoding`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(offset)) throw invalid();
  const id = Buffer.from(offset, "base64").toString("utf8");
  if (!isUuid(id)) throw invalid();
  return id;
}
