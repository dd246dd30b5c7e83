// The schema: every module adds its types to the one builder (the entities' from their definitions, the rest
// by hand), then it is built once.
import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.ts";
import "./entities.ts";
import "./service-url.ts";
import "./plugins.ts";
import "./proxy-cache.ts";
import "./health.ts";
import "./upstream-health.ts";
import "./config-events.ts";
import "./status.ts";
import "./cluster.ts";
import "./declarative.ts";

export const schema = builder.toSchema();

/** The SDL committed as schema.graphql (sorted, so it only changes when the schema does). */
export function printSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
