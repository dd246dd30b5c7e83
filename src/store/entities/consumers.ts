import { consumerFields, consumerSchema } from "../../schemas/consumers.ts";
import type { EntityDefinition } from "../entity-def.ts";

export const consumers: EntityDefinition<"consumers"> = {
  name: "consumers",
  get schema() {
    return consumerSchema();
  },
  get shape() {
    return consumerFields();
  },
  endpointKey: { field: "username", validate: null },
  foreignKeys: [],
  uniques: [["username"], ["custom_id"]],
  timestamps: { unit: "seconds", updatedAt: true },
  admin: { path: "consumers", topLevel: true },
  graphql: {
    type: "Consumer",
    keyArg: "idOrName",
    keyName: "username",
    description: "Who calls the API (Kong's consumer). Field rules are those of REST's `/consumers`.",
  },
  snapshot: true,
};
