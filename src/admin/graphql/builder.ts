// The one Pothos builder every GraphQL module adds its types to. Output fields are non-null unless they
// say otherwise; input fields are optional, because the zod schemas (not GraphQL) decide what is
// required, so a missing field gets Kong's "required field missing" like it does over REST.
import SchemaBuilder from "@pothos/core";
import ValidationPlugin from "@pothos/plugin-validation";
import type { AdminContext } from "../context.ts";
import { validationFailure } from "./errors.ts";
import type { ConsumerLoader, RouteLoader, ServiceLoader } from "./loaders.ts";

export type GraphqlContext = {
  admin: AdminContext;
  /** Per-request cache of services by id (`Route.service` on a page of routes asks for the same ones). */
  services: ServiceLoader;
  /** The same for routes and consumers (`Plugin.route`, `Plugin.consumer`, a credential's consumer). */
  routes: RouteLoader;
  consumers: ConsumerLoader;
  /** Aborted when the gateway stops: live subscriptions end so the listener can drain. */
  closing: AbortSignal;
};

export const builder = new SchemaBuilder<{
  Context: GraphqlContext;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  /** Opaque JSON (json.ts): a plugin's config. */
  Scalars: { JSON: { Input: unknown; Output: unknown } };
}>({
  plugins: [ValidationPlugin],
  defaultFieldNullability: false,
  validation: { validationError: validationFailure },
});

builder.queryType({ description: "Read the gateway's configuration and state." });
builder.mutationType({ description: "Change the configuration. Accepted only over POST with a JSON body." });
builder.subscriptionType({ description: "Live changes, over server-sent events or WebSocket (graphql-ws)." });

export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** The `t` of an input type's `fields`, for field lists shared by several inputs. */
export type InputFields = PothosSchemaTypes.InputFieldBuilder<BuilderTypes, "InputObject">;
