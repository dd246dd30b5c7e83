// Every entity's definition, by Kong's DAO name. Adding an entity: its zod schema (schemas/), its entry in
// schemas/entities.ts, a definition here, a table per dialect and their migrations (docs/adding-an-entity.md).
import type { EntityDefinition, EntityName, FieldReference, ForeignKey } from "../entity-def.ts";
import { caCertificates, certificates, snis } from "./certificates.ts";
import { consumers } from "./consumers.ts";
import { acls, basicauthCredentials, jwtSecrets, keyauthCredentials } from "./credentials.ts";
import { plugins } from "./plugins.ts";
import { routes } from "./routes.ts";
import { services } from "./services.ts";
import { targets, upstreams } from "./upstreams.ts";

export const ENTITIES: { readonly [N in EntityName]: EntityDefinition<N> } = {
  services,
  routes,
  consumers,
  plugins,
  keyauth_credentials: keyauthCredentials,
  basicauth_credentials: basicauthCredentials,
  jwt_secrets: jwtSecrets,
  acls,
  upstreams,
  targets,
  certificates,
  snis,
  ca_certificates: caCertificates,
};

export const ENTITY_NAMES = Object.keys(ENTITIES) as EntityName[];

export function definitionOf<N extends EntityName>(name: N): EntityDefinition<N> {
  return ENTITIES[name] as EntityDefinition<N>;
}

/** A foreign key seen from the parent: which children point at it, and what deleting it does to them. */
export type Reference = ForeignKey & { child: EntityName };

const REFERENCES = new Map<EntityName, Reference[]>();
for (const child of ENTITY_NAMES)
  for (const fk of ENTITIES[child].foreignKeys) {
    const list = REFERENCES.get(fk.entity) ?? [];
    list.push({ ...fk, child });
    REFERENCES.set(fk.entity, list);
  }

/** The foreign keys pointing at `parent` (restricting or cascading its deletion). */
export function referencesTo(parent: EntityName): readonly Reference[] {
  return REFERENCES.get(parent) ?? [];
}

/** The JSON-field references naming `entity` (a certificate named by services' client_certificate). */
export type FieldReferenceTo = FieldReference & { child: EntityName };

const FIELD_REFERENCES = new Map<EntityName, FieldReferenceTo[]>();
for (const child of ENTITY_NAMES)
  for (const ref of ENTITIES[child].references ?? []) {
    const list = FIELD_REFERENCES.get(ref.entity) ?? [];
    list.push({ ...ref, child });
    FIELD_REFERENCES.set(ref.entity, list);
  }

export function fieldReferencesTo(entity: EntityName): readonly FieldReferenceTo[] {
  return FIELD_REFERENCES.get(entity) ?? [];
}
