// `JSON`: an opaque JSON value (a plugin's config). It is passed through untouched, keys included: the
// plugin's zod schema, not GraphQL, decides what it may contain, so a bad config gets the same Kong error
// (code 2, `config.<key>` paths) as over REST.
import { valueFromASTUntyped } from "graphql";
import { builder } from "./builder.ts";

export const JsonScalar = builder.scalarType("JSON", {
  description: "Any JSON value, as written (keys are not renamed).",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => valueFromASTUntyped(node, variables ?? undefined),
});
