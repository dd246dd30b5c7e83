// The one place where zod failures become Kong's schema-violation error (code 2).
import { z } from "zod";
import { type ErrorFields, type GatewayError, schemaViolation } from "../errors.ts";

type Slot = ErrorFields | unknown[];

// Keys are client input: `__proto__`, `constructor` or `toString` must be own properties like any other
// field name, never a lookup or an assignment that reaches Object.prototype.
function put(container: Slot, key: string | number, value: unknown) {
  if (Array.isArray(container)) {
    const index = Number(key);
    while (container.length < index) container.push(null);
    if (container[index] === undefined || container[index] === null) container[index] = value;
  } else if (!Object.hasOwn(container, key))
    Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

function child(container: Slot, key: string | number, nextKey: string | number): Slot {
  const existing = Array.isArray(container)
    ? container[Number(key)]
    : Object.hasOwn(container, key)
      ? container[key]
      : undefined;
  if (existing && typeof existing === "object") return existing as Slot;
  const created: Slot = typeof nextKey === "number" ? [] : {};
  put(container, key, created);
  return created;
}

/** Field errors shaped like Kong's: per field, per index for arrays, `@entity` for whole-entity checks. */
export function zodFieldErrors(error: z.ZodError): ErrorFields {
  const fields: ErrorFields = {};
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      let container: Slot = fields;
      issue.path.forEach((key, i) => {
        container = child(container, key as string | number, issue.path[i + 1] as string | number);
      });
      for (const key of issue.keys) put(container, key, "unknown field");
      continue;
    }
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    if (path.length === 0 || path[0] === "@entity") {
      const list = (fields["@entity"] as unknown[] | undefined) ?? [];
      if (!list.includes(issue.message)) list.push(issue.message);
      fields["@entity"] = list;
      continue;
    }
    let container: Slot = fields;
    for (let i = 0; i < path.length - 1; i++) container = child(container, path[i]!, path[i + 1]!);
    put(container, path[path.length - 1]!, issue.message);
  }
  return fields;
}

export function fromZod(error: z.ZodError): GatewayError {
  return schemaViolation(zodFieldErrors(error));
}

/** Paths of every own `__proto__` key in client input (JSON.parse makes them ordinary own keys). */
function protoKeyPaths(value: unknown, path: PropertyKey[], out: PropertyKey[][]): PropertyKey[][] {
  if (typeof value !== "object" || value === null) return out;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      protoKeyPaths(item, [...path, i], out);
    });
    return out;
  }
  for (const key of Object.keys(value)) {
    if (key === "__proto__") out.push([...path, key]);
    protoKeyPaths((value as Record<string, unknown>)[key], [...path, key], out);
  }
  return out;
}

/**
 * Parses client input with an entity schema; failures are Kong's schema violation. zod's records (header
 * maps, a plugin's config before its own schema sees it) drop a `__proto__` key without a word, which
 * would store a route without the header matcher it was given: such a key is an unknown field wherever
 * it appears.
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  const protoPaths = protoKeyPaths(input, [], []);
  if (result.success && protoPaths.length === 0) return result.data;
  const issues: z.core.$ZodIssue[] = result.success ? [] : [...result.error.issues];
  for (const path of protoPaths)
    issues.push({ code: "custom", path, message: "unknown field", input: undefined });
  throw fromZod(new z.ZodError(issues));
}
