// What the store needs to know about each entity, independent of the SQL dialect: its schema, its
// endpoint key, its references, its unique constraints and how a row maps to the rendered entity.
import type { z } from "zod";
import { GatewayError } from "../errors.ts";
import { isUuid, validateName } from "../schemas/common.ts";
import { CONSUMER_FIELDS, consumerSchema } from "../schemas/consumers.ts";
import {
  aclFields,
  aclSchema,
  basicAuthCredentialFields,
  basicAuthCredentialSchema,
  jwtSecretFields,
  jwtSecretSchema,
  keyAuthCredentialFields,
  keyAuthCredentialSchema,
} from "../schemas/credentials.ts";
import { PLUGIN_FIELDS, pluginSchema } from "../schemas/plugins.ts";
import { ROUTE_FIELDS, routeSchema } from "../schemas/routes.ts";
import { SERVICE_FIELDS, serviceSchema } from "../schemas/services.ts";
import type { EntityMap, EntityName, Scope, ScopeKey } from "./repository.ts";

export type ForeignKeyDef = { field: ScopeKey; entity: EntityName; column: string };

export type EntityDef<N extends EntityName = EntityName> = {
  name: N;
  schema: z.ZodType;
  /** Kong's endpoint key: the field that can stand for the id in URLs (null: by id only). */
  endpointKey: { field: string; validate: ((value: string) => string | null) | null } | null;
  /** Rendering order; every field is rendered, unset ones as null. */
  fields: readonly string[];
  foreignKeys: readonly ForeignKeyDef[];
  /** Rows pointing at this entity: deleting it is refused (restrict) or takes them along (cascade). */
  referencedBy: readonly { entity: EntityName; column: string; onDelete: "restrict" | "cascade" }[];
  /** Groups of fields that must be unique together (foreign fields compare by id; null is a value). */
  uniques: readonly (readonly string[])[];
  /** Credentials have no updated_at in Kong. */
  hasUpdatedAt: boolean;
  /** Secret fields: never echoed in error messages (a duplicate API key must not leak the key). */
  secretFields?: readonly string[];
  /** The endpoint key is unique only under this parent (an ACL group): without it, only ids name a row. */
  endpointKeyScope?: ScopeKey;
  /** Record fields a partial update merges key by key instead of replacing (Kong: a plugin's config). */
  mergedOnUpdate?: readonly string[];
  /** Work that must happen before the synchronous transaction (e.g. password hashing). */
  prepare?: (input: Record<string, unknown>) => Promise<Record<string, unknown>>;
};

function pick(row: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) out[field] = row[field] ?? null;
  return out;
}

/** Entity → row: `{service: {id}}` becomes `service_id`. */
export function toRow(def: EntityDef, entity: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const field of def.fields) row[field] = entity[field] ?? null;
  for (const fk of def.foreignKeys) {
    delete row[fk.field];
    row[fk.column] = (entity[fk.field] as { id: string } | null)?.id ?? null;
  }
  return row;
}

/** Row → entity as rendered: every field, foreign keys as `{id}` or null. */
export function fromRow<N extends EntityName>(def: EntityDef<N>, row: Record<string, unknown>): EntityMap[N] {
  const entity = pick(row, def.fields);
  for (const fk of def.foreignKeys)
    entity[fk.field] = row[fk.column] ? { id: row[fk.column] as string } : null;
  return entity as EntityMap[N];
}

const fieldNames = (shape: Record<string, unknown>) => Object.keys(shape);
const byName = { field: "name", validate: validateName };
const consumerFk: ForeignKeyDef = { field: "consumer", entity: "consumers", column: "consumer_id" };

/** Basic-auth passwords are hashed before they are stored; the clear text is never written. */
async function hashPassword(input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const password = input.password;
  if (typeof password !== "string" || password === "") return input;
  // argon2id at OWASP's minimum profile (19 MiB, 2 passes): strong, yet cheap enough that a login burst
  // does not exhaust memory; the basic-auth plugin also caches verified pairs.
  return {
    ...input,
    password: await Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 }),
  };
}

export const ENTITY_DEFS: { [N in EntityName]: EntityDef<N> } = {
  services: {
    name: "services",
    schema: serviceSchema,
    endpointKey: byName,
    fields: SERVICE_FIELDS,
    foreignKeys: [],
    referencedBy: [
      { entity: "routes", column: "service_id", onDelete: "restrict" },
      { entity: "plugins", column: "service_id", onDelete: "cascade" },
    ],
    uniques: [["name"]],
    hasUpdatedAt: true,
  },
  routes: {
    name: "routes",
    schema: routeSchema,
    endpointKey: byName,
    fields: ROUTE_FIELDS,
    foreignKeys: [{ field: "service", entity: "services", column: "service_id" }],
    referencedBy: [{ entity: "plugins", column: "route_id", onDelete: "cascade" }],
    uniques: [["name"]],
    hasUpdatedAt: true,
  },
  consumers: {
    name: "consumers",
    schema: consumerSchema,
    endpointKey: { field: "username", validate: null },
    fields: CONSUMER_FIELDS,
    foreignKeys: [],
    referencedBy: [
      { entity: "plugins", column: "consumer_id", onDelete: "cascade" },
      { entity: "keyauth_credentials", column: "consumer_id", onDelete: "cascade" },
      { entity: "basicauth_credentials", column: "consumer_id", onDelete: "cascade" },
      { entity: "jwt_secrets", column: "consumer_id", onDelete: "cascade" },
      { entity: "acls", column: "consumer_id", onDelete: "cascade" },
    ],
    uniques: [["username"], ["custom_id"]],
    hasUpdatedAt: true,
  },
  plugins: {
    name: "plugins",
    schema: pluginSchema,
    endpointKey: { field: "instance_name", validate: validateName },
    fields: PLUGIN_FIELDS,
    foreignKeys: [
      { field: "route", entity: "routes", column: "route_id" },
      { field: "service", entity: "services", column: "service_id" },
      consumerFk,
    ],
    referencedBy: [],
    uniques: [["instance_name"], ["name", "route", "service", "consumer"]],
    hasUpdatedAt: true,
    // PATCH {"config":{"hide_credentials":true}} keeps the plugin's other settings, as in Kong.
    mergedOnUpdate: ["config"],
  },
  keyauth_credentials: {
    name: "keyauth_credentials",
    schema: keyAuthCredentialSchema,
    endpointKey: { field: "key", validate: null },
    fields: fieldNames(keyAuthCredentialFields),
    foreignKeys: [consumerFk],
    referencedBy: [],
    uniques: [["key"]],
    hasUpdatedAt: false,
    secretFields: ["key"],
  },
  basicauth_credentials: {
    name: "basicauth_credentials",
    schema: basicAuthCredentialSchema,
    endpointKey: { field: "username", validate: null },
    fields: fieldNames(basicAuthCredentialFields),
    foreignKeys: [consumerFk],
    referencedBy: [],
    uniques: [["username"]],
    hasUpdatedAt: false,
    prepare: hashPassword,
  },
  jwt_secrets: {
    name: "jwt_secrets",
    schema: jwtSecretSchema,
    endpointKey: { field: "key", validate: null },
    fields: fieldNames(jwtSecretFields),
    foreignKeys: [consumerFk],
    referencedBy: [],
    uniques: [["key"]],
    hasUpdatedAt: false,
  },
  acls: {
    name: "acls",
    schema: aclSchema,
    endpointKey: { field: "group", validate: null },
    fields: fieldNames(aclFields),
    foreignKeys: [consumerFk],
    referencedBy: [],
    uniques: [["consumer", "group"]],
    hasUpdatedAt: false,
    endpointKeyScope: "consumer",
  },
};

/** How a URL segment names an entity: by id when it is a UUID, else by endpoint key (validated first). */
export type EntityKey = { column: string; value: string };

export function parseEntityKey(def: EntityDef, key: string, scope?: Scope): EntityKey {
  if (isUuid(key)) return { column: "id", value: key.toLowerCase() };
  if (def.endpointKeyScope && scope?.[def.endpointKeyScope] === undefined)
    throw new GatewayError(
      "INVALID_PRIMARY_KEY",
      `'${key}' is not a valid id: ${def.name} are named by ${def.endpointKey?.field ?? "id"} only under their ${def.endpointKeyScope}`,
      { id: "expected a valid UUID" },
    );
  if (!def.endpointKey)
    throw new GatewayError("INVALID_PRIMARY_KEY", `invalid primary key: '${key}'`, {
      id: "expected a valid UUID",
    });
  const invalid = def.endpointKey.validate?.(key) ?? (key === "" ? "length must be at least 1" : null);
  if (invalid)
    throw new GatewayError("INVALID_UNIQUE", invalid, undefined, `invalid unique ${def.endpointKey.field}`);
  return { column: def.endpointKey.field, value: key };
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
