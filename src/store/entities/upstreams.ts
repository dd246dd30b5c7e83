// Upstreams and their targets (Kong's upstreams and targets DAOs). Targets exist only under their upstream
// (`/upstreams/{u}/targets`), are named by `host:port` within it, stamped in float seconds like Kong's
// auto_timestamp_ms, and go with their upstream. The REST endpoints Kong writes by hand for them
// (targets/all, health, healthy/unhealthy) are in admin/rest/upstream-endpoints.ts.
import { targetFields, targetSchema } from "../../schemas/targets.ts";
import {
  applyUpstreamShorthands,
  upstreamFields,
  upstreamSchema,
  validateUpstreamName,
} from "../../schemas/upstreams.ts";
import type { EntityDefinition } from "../entity-def.ts";

export const upstreams: EntityDefinition<"upstreams"> = {
  name: "upstreams",
  get schema() {
    return upstreamSchema();
  },
  get shape() {
    return upstreamFields();
  },
  endpointKey: { field: "name", validate: validateUpstreamName },
  foreignKeys: [],
  references: [
    { field: "client_certificate", entity: "certificates", shape: "record", onDelete: "restrict" },
  ],
  uniques: [["name"]],
  timestamps: { unit: "seconds", updatedAt: true },
  // PATCH {"healthchecks":{"passive":{…}}} keeps the other settings, as Kong's merge does.
  mergedOnUpdate: ["healthchecks"],
  // Kong's shorthands read only the fields a write names, before defaults and merging.
  prepare: async (input) => applyUpstreamShorthands(input),
  admin: { path: "upstreams", topLevel: true },
  graphql: { type: "Upstream", keyArg: "idOrName", keyName: "name" },
  snapshot: true,
};

export const targets: EntityDefinition<"targets"> = {
  name: "targets",
  get schema() {
    return targetSchema();
  },
  get shape() {
    return targetFields();
  },
  endpointKey: { field: "target", validate: null },
  endpointKeyScope: "upstream",
  foreignKeys: [{ field: "upstream", entity: "upstreams", column: "upstream_id", onDelete: "cascade" }],
  // The same host:port twice in one upstream is a 409 (Kong's cache key upstream + target).
  uniques: [["upstream", "target"]],
  timestamps: { unit: "milliseconds", updatedAt: true },
  admin: { path: "targets", topLevel: false },
  // Kong's PUT on a target updates it like PATCH (404 when missing); GraphQL's upsert creates or replaces.
  graphql: { type: "Target", keyArg: "idOrKey", keyName: "target", putUpdates: true },
  snapshot: true,
};
