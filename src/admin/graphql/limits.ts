// Limits that keep one request from stalling the admin listener: a token limit while parsing (an alias bomb
// never becomes a document), depth and alias limits while validating, and a cost limit before executing
// (lists multiply what is nested in them, and services and routes link to each other in a cycle).
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../paging.ts";

export const LIMITS = {
  /** Tokens in one document; the introspection query GraphiQL sends has about 200. */
  maxTokens: 4000,
  /** Nested selections; introspection needs 15. */
  maxDepth: 20,
  /** Aliases in one operation, counting each fragment every time it is spread. */
  maxAliases: 50,
  /** Estimated fields resolved: each field costs 1, times the page sizes of the lists around it. */
  maxCost: 500_000,
} as const;

type Limits = typeof LIMITS;

function limitError(message: string, limit: string, max: number, node?: OperationDefinitionNode) {
  return new GraphQLError(message, { nodes: node ? [node] : undefined, extensions: { limit, max } });
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  return fragments;
}

/** Depth of the deepest selection, giving up as soon as it passes `max` (so a 1,000-level query is cheap). */
function depthOf(
  set: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  max: number,
  visiting: Set<string>,
): number {
  if (!set) return 0;
  let deepest = 0;
  for (const selection of set.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      depth = selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, max - 1, visiting) : 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = depthOf(selection.selectionSet, fragments, max, visiting);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name)) continue; // reported by graphql's own rules
      visiting.add(name);
      depth = depthOf(fragment.selectionSet, fragments, max, visiting);
      visiting.delete(name);
    }
    deepest = Math.max(deepest, depth);
    if (deepest > max) return deepest;
  }
  return deepest;
}

/** Aliases in a selection set, fragments expanded (memoised, so counting stays linear in the document). */
function aliasesOf(
  set: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  memo: Map<string, number>,
  visiting: Set<string>,
): number {
  if (!set) return 0;
  let count = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) count++;
      count += aliasesOf(selection.selectionSet, fragments, memo, visiting);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += aliasesOf(selection.selectionSet, fragments, memo, visiting);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name)) continue;
      let inner = memo.get(name);
      if (inner === undefined) {
        visiting.add(name);
        inner = aliasesOf(fragment.selectionSet, fragments, memo, visiting);
        visiting.delete(name);
        memo.set(name, inner);
      }
      count += inner;
    }
    // Saturate: past the limit the exact number does not matter, and it cannot overflow.
    if (count > 1e9) return count;
  }
  return count;
}

export function depthAndAliasRule(limits: Limits = LIMITS) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, limits.maxDepth, new Set());
        if (depth > limits.maxDepth)
          context.reportError(
            limitError(
              `Query is too deep: more than ${limits.maxDepth} levels of nested fields.`,
              "depth",
              limits.maxDepth,
              node,
            ),
          );
        const aliases = aliasesOf(node.selectionSet, fragments, new Map(), new Set());
        if (aliases > limits.maxAliases)
          context.reportError(
            limitError(
              `Query has ${aliases} aliases; at most ${limits.maxAliases} are allowed.`,
              "aliases",
              limits.maxAliases,
              node,
            ),
          );
      },
    };
  };
}

function pageSize(value: ValueNode | undefined, variables: Record<string, unknown>): number {
  let size: unknown = DEFAULT_PAGE_SIZE;
  if (value?.kind === Kind.INT) size = Number(value.value);
  else if (value?.kind === Kind.VARIABLE) size = variables[value.name.value] ?? DEFAULT_PAGE_SIZE;
  return typeof size === "number" && Number.isFinite(size)
    ? Math.min(Math.max(Math.trunc(size), 1), MAX_PAGE_SIZE)
    : DEFAULT_PAGE_SIZE;
}

/**
 * The estimated number of fields an operation resolves when every list is full: a field under a page of
 * `size` entities counts `size` times. Fields with a `size` argument are the pages.
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const fragments = fragmentsOf(document);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  if (!operation) return 0;
  const root =
    operation.operation === "query"
      ? schema.getQueryType()
      : operation.operation === "mutation"
        ? schema.getMutationType()
        : schema.getSubscriptionType();

  const cost = (
    set: SelectionSetNode | undefined,
    parent: GraphQLNamedType | null | undefined,
    multiplier: number,
    visiting: Set<string>,
  ): number => {
    if (!set) return 0;
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = isObjectType(parent) ? parent.getFields()[selection.name.value] : undefined;
        let inner = multiplier;
        if (field?.args.some((arg) => arg.name === "size")) {
          const sizeArg = selection.arguments?.find((arg) => arg.name.value === "size");
          inner = multiplier * pageSize(sizeArg?.value, variables);
        }
        total +=
          multiplier + cost(selection.selectionSet, field && getNamedType(field.type), inner, visiting);
      } else {
        const condition = selection.kind === Kind.INLINE_FRAGMENT ? selection.typeCondition : undefined;
        let target = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : undefined;
        let typeName = condition?.name.value;
        let name: string | undefined;
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || visiting.has(name)) continue;
          target = fragment.selectionSet;
          typeName = fragment.typeCondition.name.value;
          visiting.add(name);
        }
        total += cost(target, typeName ? schema.getType(typeName) : parent, multiplier, visiting);
        if (name) visiting.delete(name);
      }
      if (total > 1e12) return total;
    }
    return total;
  };
  return cost(operation.selectionSet, root, 1, new Set());
}

/** The yoga plugin: all four limits, on every transport (HTTP, SSE and graphql-ws use the same envelop). */
export function useLimits(limits: Limits = LIMITS): Plugin {
  const costCheck = (
    args: {
      schema: GraphQLSchema;
      document: DocumentNode;
      operationName?: string | null;
      variableValues?: Record<string, unknown> | null;
    },
    stop: (result: { errors: GraphQLError[] }) => void,
  ) => {
    const cost = estimateCost(args.schema, args.document, args.operationName, args.variableValues ?? {});
    if (cost > limits.maxCost)
      stop({
        errors: [
          limitError(
            `Query is too expensive: about ${Math.round(cost)} fields when every page is full; at most ` +
              `${limits.maxCost} are allowed. Ask for smaller pages or fewer nested lists.`,
            "cost",
            limits.maxCost,
          ),
        ],
      });
  };
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parse(source, { ...options, maxTokens: limits.maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(depthAndAliasRule(limits));
    },
    onExecute({ args, setResultAndStopExecution }) {
      costCheck(args, setResultAndStopExecution);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      costCheck(args, setResultAndStopExecution);
    },
  };
}
