// GraphQL speaks camelCase at its edge; the store, zod schemas and REST keep Kong's wire names. These are
// the only conversions between the two.

/** `connect_timeout` → `connectTimeout`. */
export function camelCase(wire: string): string {
  return wire.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `connectTimeout` → `connect_timeout`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A GraphQL input object as a wire body. Only the keys the client sent are present (an explicit `null`
 * stays `null`, so PATCH semantics survive); nested records (`service: {id}`) need no renaming.
 */
export function toWire(input: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) if (value !== undefined) body[snakeCase(key)] = value;
  return body;
}
