// The one Pothos builder every GraphQL module adds its types to. Output fields are non-null unless they
// say otherwise; input fields are optional, because the zod schemas in the store (not GraphQL) decide what
// is required, so a missing field gets Kong's "required field missing" like it does over REST.
import SchemaBuilder from "@pothos/core";
import type { AdminContext } from "../context.ts";
import type { EntityLoaders } from "./loaders.ts";

export type GraphqlContext = {
  admin: AdminContext;
  /** Per-request cache of linked entities (`Route.service` on a page of routes asks for the same ones). */
  loaders: EntityLoaders;
  /** Aborted when the gateway stops: live subscriptions end so the listener can drain. */
  closing: AbortSignal;
};

export const builder = new SchemaBuilder<{
  Context: GraphqlContext;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  /** Opaque JSON (json.ts): a plugin's config, maps. */
  Scalars: { JSON: { Input: unknown; Output: unknown } };
}>({
  defaultFieldNullability: false,
});

builder.queryType({ description: "Read the gateway's configuration and state." });
builder.mutationType({ description: "Change the configuration. Accepted only over POST with a JSON body." });
builder.subscriptionType({ description: "Live changes, over server-sent events or WebSocket (graphql-ws)." });

export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
