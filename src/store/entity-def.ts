// What the store, the admin API and the snapshot builder know about an entity — defined once per entity in
// store/entities/ (Kong's entity schemas + endpoints.lua idea): its zod schema, endpoint key, foreign keys,
// unique groups, secret fields and admin paths. Everything per entity elsewhere is derived from this.
import type { z } from "zod";
import { GatewayError } from "../errors.ts";
import { isUuid } from "../schemas/common.ts";
import type { EntityMap, EntityName } from "../schemas/entities.ts";

export type { EntityMap, EntityName } from "../schemas/entities.ts";

export type ForeignKey = {
  /** The entity field (`service`), rendered as `{id}` or null. */
  field: string;
  /** The parent entity. */
  entity: EntityName;
  /** Its column (`service_id`). */
  column: string;
  /** Deleting the parent is refused while children exist (Kong code 4), or takes them along. */
  onDelete: "restrict" | "cascade";
};

/**
 * A reference kept in a JSON field rather than a foreign-key column (a service's `client_certificate`
 * `{id}` and its `ca_certificates` id list, an upstream's `client_certificate`): the store checks that what
 * it names exists on every write, and what deleting the named entity does while it is named.
 */
export type FieldReference = {
  field: string;
  entity: EntityName;
  /** `{id}` (Kong's foreign field) or an array of ids (Kong's `ca_certificates`). */
  shape: "record" | "ids";
  /**
   * Deleting the named entity is refused: Kong's foreign-key restriction (code 4), or, for CA certificates,
   * the ca_certificates DAO's own check (code 19, "referenced by others").
   */
  onDelete: "restrict" | "referenced-by-others";
};

/** A field whose schema depends on another field's value (Kong's subschemas: a plugin's config by name). */
export type Subschema = {
  key: string;
  field: string;
  schemaFor(value: string): z.ZodType | undefined;
};

export type EntityDefinition<N extends EntityName = EntityName> = {
  name: N;
  /** The whole entity's validation as written (defaults filled in); the store runs it on every write. */
  schema: z.ZodType;
  /** The fields' own schemas, in rendering order (form typing, GraphQL and Kong's /schemas read them). */
  shape: Readonly<Record<string, z.ZodType>>;
  /** Fields accepted on input but never stored or rendered (a service's `url` shorthand). */
  writeOnly?: readonly string[];
  /** Kong's endpoint key: the field that can stand for the id in URLs (null: by id only). */
  endpointKey: { field: string; validate: ((value: string) => string | null) | null } | null;
  foreignKeys: readonly ForeignKey[];
  /** References held in JSON fields, checked by the store like foreign keys. */
  references?: readonly FieldReference[];
  /** Groups of fields that must be unique together (foreign fields compare by id; null is a value). */
  uniques: readonly (readonly string[])[];
  /**
   * Kong stamps most entities in whole seconds; targets with its auto_timestamp_ms, seconds with millisecond
   * precision (1732400000.123). Credentials have no updated_at.
   */
  timestamps: { unit: "seconds" | "milliseconds"; updatedAt: boolean };
  /** Never echoed in error messages or plans (a duplicate API key must not leak the key). */
  secretFields?: readonly string[];
  /** Secrets inside a record field, by the entity's content (a plugin's config): dotted paths, `*` any key. */
  secretPaths?: (entity: Row) => readonly string[];
  /** The endpoint key is unique only under this parent (an ACL group): without it, only ids name a row. */
  endpointKeyScope?: string;
  /** Record fields a partial update merges key by key instead of replacing (Kong: a plugin's config). */
  mergedOnUpdate?: readonly string[];
  subschema?: Subschema;
  /**
   * Fields `prepare` turns into one-way hashes (a basic-auth password): a declarative file with Kong's
   * `_transform: true` gives them in clear text, and they match the stored hash when it verifies.
   */
  hashedFields?: readonly string[];
  /**
   * Fields the schema generates when absent (a key-auth key, a JWT secret): a declarative entity that leaves
   * them out keeps the stored values instead of drifting to new random ones on every apply.
   */
  generatedFields?: readonly string[];
  /** Async work before the transaction (password hashing); the transaction itself never waits on it. */
  prepare?: (input: Record<string, unknown>) => Promise<Record<string, unknown>>;
  /** Admin URLs: `/<path>`, and `/<parent>/{p}/<nestedPath ?? path>` under each foreign key's parent. */
  admin: { path: string; nestedPath?: string; topLevel: boolean };
  /**
   * GraphQL: the object type's name (its operations are named after it: `keyAuths`, `addKeyAuth`), the name of
   * its key argument (`idOrName`, `idOrKey`), what the endpoint key is called in descriptions, and the type's
   * description. The fields, inputs, links and operations are generated from the rest of the definition.
   * `putUpdates`: REST's PUT on this entity only updates an existing one, like PATCH (Kong's targets), so
   * GraphQL's upsert (create or replace) is not described as its equivalent.
   */
  graphql: { type: string; keyArg: string; keyName: string; description?: string; putUpdates?: true };
  /** Loaded into the proxy's snapshot. */
  snapshot: boolean;
};

export type Row = Record<string, unknown>;

const STORED_FIELDS = new WeakMap<EntityDefinition, readonly string[]>();

/** The fields stored and rendered, in order (computed once per entity: rows are rendered by the thousand). */
export function storedFields(def: EntityDefinition): readonly string[] {
  let fields = STORED_FIELDS.get(def);
  if (!fields) {
    fields = Object.keys(def.shape).filter((f) => !def.writeOnly?.includes(f));
    STORED_FIELDS.set(def, fields);
  }
  return fields;
}

/** Entity → row: `{service: {id}}` becomes `service_id`. */
export function toRow(def: EntityDefinition, entity: Row): Row {
  const row: Row = {};
  for (const field of storedFields(def)) row[field] = entity[field] ?? null;
  for (const fk of def.foreignKeys) {
    delete row[fk.field];
    row[fk.column] = (entity[fk.field] as { id: string } | null)?.id ?? null;
  }
  return row;
}

/** Row → entity as rendered: every field, foreign keys as `{id}` or null. */
export function fromRow<N extends EntityName>(def: EntityDefinition<N>, row: Row): EntityMap[N] {
  const entity: Row = {};
  for (const field of storedFields(def)) entity[field] = row[field] ?? null;
  for (const fk of def.foreignKeys)
    entity[fk.field] = row[fk.column] ? { id: row[fk.column] as string } : null;
  return entity as EntityMap[N];
}

/** How a URL segment names an entity: by id when it is a UUID, else by endpoint key (validated first). */
export type EntityKey = { column: string; value: string };

export type Scope = Readonly<Record<string, string | undefined>>;

export function parseEntityKey(def: EntityDefinition, key: string, scope?: Scope): EntityKey {
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

/** A timestamp in the entity's unit: whole seconds, or seconds with milliseconds (Kong's ngx.now()). */
export function timestampNow(def: EntityDefinition): number {
  const now = Date.now();
  return def.timestamps.unit === "seconds" ? Math.floor(now / 1000) : now / 1000;
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

/** A plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Kong's UNIQUE violation: `{name="x"}`, or for composites `{consumer=null,name="acl",…}`; secrets redacted. */
export function uniqueViolation(def: EntityDefinition, group: readonly string[], entity: Row): GatewayError {
  const sorted = [...group].sort();
  const secret = (f: string) => def.secretFields?.includes(f) ?? false;
  const render = (f: string, v: unknown) =>
    secret(f)
      ? "<redacted>"
      : v === null
        ? "null"
        : isRecord(v)
          ? `{id="${(v as { id: string }).id}"}`
          : `"${String(v)}"`;
  const fields = Object.fromEntries(
    sorted.map((f) => [f, secret(f) ? "already in use" : (entity[f] ?? null)]),
  );
  return new GatewayError(
    "UNIQUE_VIOLATION",
    `UNIQUE violation detected on '{${sorted.map((f) => `${f}=${render(f, entity[f] ?? null)}`).join(",")}}'`,
    fields,
  );
}

/** Kong's refusal to delete a parent that children still reference (code 4). */
export function referencedBy(def: EntityDefinition, child: EntityName): GatewayError {
  return new GatewayError(
    "FOREIGN_KEY_VIOLATION",
    `an existing '${child}' entity references this '${def.name}' entity`,
    { "@referenced_by": child },
  );
}
