import { validateName } from "../../schemas/common.ts";
import { serviceFields, serviceSchema } from "../../schemas/services.ts";
import type { EntityDefinition } from "../entity-def.ts";

export const services: EntityDefinition<"services"> = {
  name: "services",
  get schema() {
    return serviceSchema();
  },
  get shape() {
    return serviceFields();
  },
  writeOnly: ["url"],
  endpointKey: { field: "name", validate: validateName },
  foreignKeys: [],
  references: [
    { field: "client_certificate", entity: "certificates", shape: "record", onDelete: "restrict" },
    { field: "ca_certificates", entity: "ca_certificates", shape: "ids", onDelete: "referenced-by-others" },
  ],
  uniques: [["name"]],
  timestamps: { unit: "seconds", updatedAt: true },
  admin: { path: "services", topLevel: true },
  graphql: {
    type: "Service",
    keyArg: "idOrName",
    keyName: "name",
    description: "An upstream API (Kong's service). Field rules are those of REST's `/services`.",
  },
  snapshot: true,
};
