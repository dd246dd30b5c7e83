// The one place where zod failures become Kong's schema-violation error (code 2).
import type { z } from "zod";
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
