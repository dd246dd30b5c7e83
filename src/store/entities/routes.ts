import { validateName } from "../../schemas/common.ts";
import { routeFields, routeSchema } from "../../schemas/routes.ts";
import type { EntityDefinition } from "../entity-def.ts";

export const routes: EntityDefinition<"routes"> = {
  name: "routes",
  get schema() {
    return routeSchema();
  },
  get shape() {
    return routeFields();
  },
  endpointKey: { field: "name", validate: validateName },
  // RESTRICT: a service with routes cannot be deleted (Kong code 4).
  foreignKeys: [{ field: "service", entity: "services", column: "service_id", onDelete: "restrict" }],
  uniques: [["name"]],
  timestamps: { unit: "seconds", updatedAt: true },
  admin: { path: "routes", topLevel: true },
  graphql: {
    type: "Route",
    keyArg: "idOrName",
    keyName: "name",
    description: "How requests reach a service (Kong's route). Field rules are those of REST's `/routes`.",
  },
  snapshot: true,
};
