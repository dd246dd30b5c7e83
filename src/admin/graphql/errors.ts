// How errors leave the GraphQL edge. A GatewayError (raised by the store, the same one REST renders) becomes
// a GraphQL error whose `extensions` carry Kong's `code`, `name` and `fields`, with field paths named as the
// GraphQL client names them; anything unexpected is logged and masked (no message, no stack).
import { GraphQLError } from "graphql";
import { type ErrorFields, type GatewayError, isGatewayError, schemaViolation } from "../../errors.ts";
import { camelCase } from "./wire.ts";

export const MASKED_MESSAGE = "An unexpected error occurred";

/** Kong's field errors (wire names) → the names a GraphQL client wrote. */
export type FieldNamer = (fields: ErrorFields) => ErrorFields;

/** Kong field errors with camelCase keys (`@entity`-style keys and array positions kept). */
export function camelizeErrors(errors: unknown): unknown {
  if (Array.isArray(errors)) return errors.map(camelizeErrors);
  if (errors === null || typeof errors !== "object") return errors;
  const out: ErrorFields = {};
  for (const [key, value] of Object.entries(errors))
    out[key.startsWith("@") ? key : camelCase(key)] = camelizeErrors(value);
  return out;
}

const camelizeFields: FieldNamer = (fields) => camelizeErrors(fields) as ErrorFields;

export type KongExtensions = { code: number; name: string; fields?: ErrorFields };

/**
 * The GraphQL rendering of a GatewayError; `located` supplies the path and source locations, `name` renames
 * the field paths (an entity's resolvers pass its own, which leaves opaque JSON such as a plugin's config as
 * written).
 */
export function toGraphqlError(
  error: GatewayError,
  located?: GraphQLError,
  name: FieldNamer = camelizeFields,
): GraphQLError {
  const extensions: KongExtensions = { code: error.code, name: error.displayName };
  let message = error.message;
  if (error.fields !== undefined) {
    extensions.fields = name(error.fields);
    // Schema violations name their fields in the message too: say them the way the client wrote them.
    if (error.kind === "SCHEMA_VIOLATION") message = schemaViolation(extensions.fields).message;
  }
  return new GraphQLError(message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    originalError: error,
    extensions,
  });
}

/**
 * yoga's `maskError`: Kong errors are rendered, GraphQL's own errors pass (so do Kong errors an entity's
 * resolver already rendered with its field names), everything else is masked.
 */
export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (isGatewayError(original)) return toGraphqlError(original, error as GraphQLError);
  if (error instanceof GraphQLError && (original === undefined || original instanceof GraphQLError))
    return error;
  console.error("graphql: unexpected error:", original);
  const located = error instanceof GraphQLError ? error : undefined;
  return new GraphQLError(message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
  });
}
