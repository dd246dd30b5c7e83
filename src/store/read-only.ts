// Kong's "off" strategy (DB-less mode): the configuration comes from a declarative file, so every entity
// write through the admin API (REST or GraphQL) is refused with Kong's code 12 and its messages
// (kong/db/strategies/off). Reads pass through; only a whole new configuration replaces the old one.
import { GatewayError } from "../errors.ts";
import { isUuid } from "../schemas/common.ts";
import type { BatchStep, EntityRepository, Store } from "./contract.ts";
import { definitionOf } from "./entities/index.ts";
import type { EntityName } from "./entity-def.ts";

const OPERATIONS = {
  insert: "create",
  update: "update",
  upsert: "create or update",
  delete: "remove",
} as const;

function unsupported(entity: EntityName, action: keyof typeof OPERATIONS, key?: string): GatewayError {
  const byKey =
    key !== undefined && !isUuid(key) ? ` by '${definitionOf(entity).endpointKey?.field ?? "id"}'` : "";
  return new GatewayError(
    "OPERATION_UNSUPPORTED",
    `cannot ${OPERATIONS[action]} '${entity}' entities${byKey} when not using a database`,
  );
}

export function readOnlyStore(store: Store): Store {
  const repositories = new Map<EntityName, EntityRepository<unknown>>();
  const refused = <N extends EntityName>(name: N): EntityRepository<unknown> => {
    const inner = store.entity(name) as EntityRepository<unknown>;
    return {
      get: (key, scope) => inner.get(key, scope),
      page: (query) => inner.page(query),
      count: (scope, tags) => inner.count(scope, tags),
      all: () => inner.all(),
      insert: async () => {
        throw unsupported(name, "insert");
      },
      update: async (key) => {
        throw unsupported(name, "update", key);
      },
      upsert: async (key) => {
        throw unsupported(name, "upsert", key);
      },
      delete: async (key) => {
        throw unsupported(name, "delete", key);
      },
    };
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === "entity")
        return (name: EntityName) => {
          let repository = repositories.get(name);
          if (!repository) {
            repository = refused(name);
            repositories.set(name, repository);
          }
          return repository;
        };
      if (property === "writeVerified")
        return async () => {
          throw new GatewayError("OPERATION_UNSUPPORTED", "cannot write when not using a database");
        };
      if (property === "batch")
        return async (steps: BatchStep[]) => {
          const first = steps[0];
          throw first
            ? unsupported(first.entity, first.action, "key" in first ? first.key : undefined)
            : new GatewayError("OPERATION_UNSUPPORTED", "cannot write when not using a database");
        };
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
