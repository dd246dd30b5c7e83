// How errors leave the GraphQL edge. A GatewayError (raised by the store, the same one REST renders) becomes
// a GraphQL error whose `extensions` carry Kong's `code`, `name` and `fields`, with field paths in the
// camelCase a GraphQL client uses; anything unexpected is logged and masked (no message, no stack).
import type { StandardSchemaV1 } from "@pothos/plugin-validation";
import { GraphQLError } from "graphql";
import type { z } from "zod";
import { type ErrorFields, GatewayError, isGatewayError, schemaViolation } from "../../errors.ts";
import { zodFieldErrors } from "../../schemas/from-zod.ts";
import { camelCase } from "./wire.ts";

export const MASKED_MESSAGE = "An unexpected error occurred";

/**
 * Entity fields whose value is opaque JSON, written and read with its own keys (a plugin's `config` keeps
 * the plugin's snake_case names): errors inside them name those keys unchanged.
 */
const OPAQUE_FIELDS = new Set(["config"]);

/** Kong field errors with camelCase keys (`@entity`-style keys, array positions, opaque JSON kept). */
export function camelizeFields(fields: unknown): unknown {
  if (Array.isArray(fields)) return fields.map(camelizeFields);
  if (fields === null || typeof fields !== "object") return fields;
  const out: ErrorFields = {};
  for (const [key, value] of Object.entries(fields))
    out[key.startsWith("@") ? key : camelCase(key)] = OPAQUE_FIELDS.has(key) ? value : camelizeFields(value);
  return out;
}

export type KongExtensions = { code: number; name: string; fields?: ErrorFields };

/** The GraphQL rendering of a GatewayError; `located` supplies the path and source locations. */
export function toGraphqlError(error: GatewayError, located?: GraphQLError): GraphQLError {
  const extensions: KongExtensions = { code: error.code, name: error.displayName };
  let message = error.message;
  if (error.fields !== undefined) {
    extensions.fields = camelizeFields(error.fields) as ErrorFields;
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

/** yoga's `maskError`: Kong errors are rendered, GraphQL's own errors pass, everything else is masked. */
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

type Issue = StandardSchemaV1.Issue;

function segment(key: PropertyKey | StandardSchemaV1.PathSegment): string | number {
  const value = typeof key === "object" ? key.key : key;
  return typeof value === "symbol" ? String(value) : value;
}

/**
 * The validation plugin's failure hook. Which Kong error an issue is depends on the argument it is
 * about, exactly as over REST: a bad key in the URL is code 10, `size` 9, `tags` 11, a body code 2.
 */
export function validationFailure(failure: StandardSchemaV1.FailureResult): Error {
  // The plugin re-parents zod's issues (prototype chain), so copy what the converter reads explicitly.
  const issues = failure.issues.map(
    (issue: Issue & { code?: string; keys?: string[]; params?: { invalidUnique?: string } }) => ({
      code: issue.code,
      keys: issue.keys,
      message: issue.message,
      path: (issue.path ?? []).map(segment),
      invalidUnique: issue.params?.invalidUnique,
    }),
  );
  const first = issues[0];
  // An entity key the store would refuse (keyCheck): Kong names the error after the key's field.
  if (first?.invalidUnique)
    return new GatewayError("INVALID_UNIQUE", first.message, undefined, first.invalidUnique);
  switch (first?.path[0]) {
    case "idOrName":
      return new GatewayError("INVALID_UNIQUE", first.message, undefined, "invalid unique name");
    case "size":
      return new GatewayError("INVALID_SIZE", first.message);
    case "tags":
      return new GatewayError("INVALID_OPTIONS", first.message);
    default: {
      // Issues about the entity input: Kong's per-field shape, from the same converter REST uses.
      const inner = issues.map((issue) => ({ ...issue, path: issue.path.slice(1) }));
      return schemaViolation(zodFieldErrors({ issues: inner } as unknown as z.ZodError));
    }
  }
}
