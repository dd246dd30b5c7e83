// Kong's generated endpoints (kong/api/endpoints.lua) for every entity, from its definition alone:
//   /<path>                         GET (page), POST
//   /<path>/{id or key}             GET, PATCH, PUT, DELETE
//   /<parent>/{p}/<nested path>     the same, scoped to the parent (for each foreign key)
//   /<path>/{id or key}/<fk field>  the parent it points at: GET, PATCH, PUT (DELETE is 405)
import type { z } from "zod";
import type { EntityRepository, Store } from "../../store/contract.ts";
import { ENTITIES, ENTITY_NAMES } from "../../store/entities/index.ts";
import type { EntityDefinition } from "../../store/entity-def.ts";
import { collection, entity, escaped, nestedEntity, parentOf, parentScope } from "./crud.ts";
import { type FieldKinds, kindOf, kindsOf } from "./form.ts";
import type { BodyKinds } from "./http.ts";
import type { AdminRouter } from "./router.ts";

/**
 * How a form body is typed: by the entity's fields, and a subschema field by the value it depends on. The
 * kinds are worked out from the zod shapes on the first form body, not when the endpoints are registered
 * (start-up would otherwise walk every entity's schema before the admin listener answers).
 */
export function bodyKindsOf(def: EntityDefinition): BodyKinds {
  let base: FieldKinds | undefined;
  const baseKinds = () => (base ??= kindsOf(def.shape as Record<string, z.ZodType>));
  const sub = def.subschema;
  if (!sub) return () => baseKinds();
  const byValue = new Map<string, FieldKinds[string]>();
  return (pairs) => {
    const value = pairs.find(([key]) => key === sub.key)?.[1];
    const schema = value === undefined ? undefined : sub.schemaFor(value);
    if (!schema || value === undefined) return baseKinds();
    let kind = byValue.get(value);
    if (!kind) {
      kind = kindOf(schema);
      byValue.set(value, kind);
    }
    return { ...baseKinds(), [sub.field]: kind };
  };
}

type AnyRepository = EntityRepository<{ id: string }>;

export function registerEntityEndpoints(router: AdminRouter, store: Store): void {
  for (const name of ENTITY_NAMES) {
    const def = ENTITIES[name] as EntityDefinition;
    const repo = store.entity(name) as unknown as AnyRepository;
    const kinds = bodyKindsOf(def);
    const path = def.admin.path;
    if (def.admin.topLevel) {
      router.add(
        `/${path}`,
        collection(repo, kinds, () => `/${path}`),
      );
      router.add(`/${path}/:key`, entity(repo, kinds, "key"));
    }
    for (const fk of def.foreignKeys) {
      const parent = ENTITIES[fk.entity] as EntityDefinition;
      const nested = `/${parent.admin.path}/:parent/${def.admin.nestedPath ?? path}`;
      const scope = parentScope(store.entity(fk.entity) as unknown as AnyRepository, "parent", fk.field);
      router.add(
        nested,
        collection(
          repo,
          kinds,
          (p) => `/${parent.admin.path}/${escaped(p.parent!)}/${def.admin.nestedPath ?? path}`,
          scope,
        ),
      );
      router.add(`${nested}/:key`, nestedEntity(repo, kinds, "key", scope));
      if (def.admin.topLevel)
        router.add(
          `/${path}/:key/${fk.field}`,
          parentOf(
            store,
            { entity: name, param: "key", field: fk.field },
            { entity: fk.entity, kinds: bodyKindsOf(parent) },
          ),
        );
    }
  }
}
