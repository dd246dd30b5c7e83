// GraphQL speaks camelCase at its edge; the store, zod schemas and REST keep Kong's wire names.

/** `connect_timeout` → `connectTimeout`. */
export function camelCase(wire: string): string {
  return wire.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
