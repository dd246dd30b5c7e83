// Reusable field types with Kong's validation rules and error messages (kong/db/schema/typedefs.lua).
// Every entity schema is built from these, so REST, GraphQL and the store agree on one set of rules.
import { z } from "zod";
import { lazy } from "./lazy.ts";

/** Kong says "required field missing" for absent/null required values, else the type error. */
export function typeError(expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined || issue.input === null ? "required field missing" : expected;
}

/** A zod refinement from a validator that returns Kong's message, or null when the value is valid. */
export function refineWith<T>(validate: (value: T) => string | null) {
  return (value: T, ctx: z.RefinementCtx) => {
    const message = validate(value);
    if (message !== null) ctx.addIssue({ code: "custom", message });
  };
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

export const uuid = lazy(() =>
  z
    .string({ error: typeError("expected a string") })
    .regex(UUID_PATTERN, { error: "expected a valid UUID" })
    .transform((v) => v.toLowerCase()),
);

export const text = lazy(() =>
  z.string({ error: typeError("expected a string") }).min(1, "length must be at least 1"),
);

export function integer(min: number, max: number) {
  return z
    .number({ error: typeError("expected an integer") })
    .int({ error: "expected an integer" })
    .min(min, { error: `value should be between ${min} and ${max}` })
    .max(max, { error: `value should be between ${min} and ${max}` });
}

export const boolean = lazy(() => z.boolean({ error: typeError("expected a boolean") }));

export const timestamp = lazy(() =>
  z
    .number({ error: typeError("expected an integer") })
    .int({ error: "expected an integer" })
    .meta({ description: "Unix time, seconds." }),
);

/** A field that takes `value` when absent or null (Kong stores null; we keep the effective default). */
export function defaulted<S extends z.ZodType>(schema: S, value: z.output<S>) {
  return z.preprocess((v) => (v === null ? undefined : v), schema.default(value as never));
}

/** A required field with a default: absent → default, explicit null → "required field missing". */
export function requiredWithDefault<S extends z.ZodType>(schema: S, value: z.output<S>) {
  return schema.default(value as never);
}

/** An optional field rendered as null when unset. */
export function nullable<S extends z.ZodType>(schema: S) {
  return schema.nullable().default(null);
}

// --- names (utf8_name) ---------------------------------------------------------------------------

// Kong accepts any non-ASCII UTF-8 here. We also refuse the C1 control characters (U+0080–U+009F, e.g. NEL
// is a line break in logs) and lone surrogates, which SQLite cannot store as UTF-8: such a name would come
// back altered and could never be addressed again by its URL.
const NAME_PATTERN = /^(?:[A-Za-z0-9._~-]|[^\x00-\x9f])+$/u;

export function validateName(value: string): string | null {
  if (value.length === 0) return "length must be at least 1";
  if (!NAME_PATTERN.test(value) || !value.isWellFormed())
    return `invalid value '${value}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`;
  return null;
}

export const name = lazy(() =>
  z.string({ error: typeError("expected a string") }).superRefine(refineWith(validateName)),
);

// --- hosts -------------------------------------------------------------------------------------

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

export function isIpv4(value: string): boolean {
  return IPV4.test(value);
}

export function isIpv6(value: string): boolean {
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (!bare.includes(":") || !/^[0-9a-fA-F:.]+$/.test(bare)) return false;
  try {
    return new URL(`http://[${bare}]/`).hostname.length > 0;
  } catch {
    return false;
  }
}

export function isHostname(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.endsWith(".") ? value.slice(0, -1).split(".") : value.split(".");
  return labels.every((label) => HOST_LABEL.test(label));
}

/** Kong's `host` typedef: hostname, IPv4 or IPv6; never a port. */
export function validateHost(value: string): string | null {
  if (value.length === 0) return "length must be at least 1";
  if (isIpv4(value) || isIpv6(value) || isHostname(value)) return null;
  const withPort = /^(.+):(\d+)$/.exec(value);
  if (withPort && (isIpv4(withPort[1]!) || isHostname(withPort[1]!) || isIpv6(withPort[1]!)))
    return "must not have a port";
  return `invalid value: ${value}`;
}

export const host = lazy(() =>
  z.string({ error: typeError("expected a string") }).superRefine(refineWith(validateHost)),
);

// --- paths -------------------------------------------------------------------------------------

const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/** Kong's `path` typedef. */
export function validatePath(value: string): string | null {
  if (value.length === 0) return "length must be at least 1";
  if (!value.startsWith("/")) return "should start with: /";
  if (value.includes("//")) return "must not have empty segments";
  if (!PATH_CHARS.test(value))
    return `invalid path: '${value}' (characters outside of the reserved list of RFC 3986 found)`;
  const badEscape = /%(?![0-9A-Fa-f]{2})(.{0,2})/.exec(value);
  if (badEscape) return `invalid url-encoded value: '%${badEscape[1]}'`;
  return null;
}

export const path = lazy(() =>
  z.string({ error: typeError("expected a string") }).superRefine(refineWith(validatePath)),
);

// --- tags --------------------------------------------------------------------------------------

const TAG_PATTERN = /^(?:[\x21-\x2b\x2d-\x2e\x30-\x7e]|[^\x00-\x7f])+$/u;

export function validateTag(value: string): string | null {
  if (value.length === 0) return "length must be at least 1";
  if (!TAG_PATTERN.test(value))
    return `invalid tag '${value}': expected printable ascii (except \`,\` and \`/\`) or valid utf-8 sequences`;
  return null;
}

export const tag = lazy(() =>
  z.string({ error: typeError("expected a string") }).superRefine(refineWith(validateTag)),
);

/** A Kong `set`: an array whose duplicates collapse. */
export function set<S extends z.ZodType>(item: S) {
  return z.array(item, { error: typeError("expected a set") }).transform((values) => [...new Set(values)]);
}

export const tags = lazy(() => nullable(set(tag())));

/**
 * A foreign reference: `{id}`, or the parent's endpoint key (`{name}` for services and routes, `{username}` for
 * consumers — `{name}` is accepted there too), resolved to `{id}` by the store before it is saved.
 */
export function foreignRef(endpointKey: "name" | "username" = "name") {
  const keys =
    endpointKey === "name"
      ? { name: name().optional() }
      : { username: text().optional(), name: text().optional() };
  return z
    .strictObject({ id: uuid().optional(), ...keys }, { error: typeError("expected a record") })
    .refine((ref) => Object.values(ref).some((v) => v !== undefined), { error: "required field missing" });
}

export type ForeignRef = { id?: string; name?: string; username?: string };

export const PROTOCOLS = ["http", "https"] as const;
export type Protocol = (typeof PROTOCOLS)[number];
/** Kong's protocol enum, as its error message lists it (sorted). */
export const KONG_PROTOCOLS = ["grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"];

/**
 * A value Kong does not know gets Kong's own message (listing Kong's protocols); one Kong knows but Portico
 * does not proxy (grpc, tcp, …) is refused with the protocols Portico does serve.
 */
export function protocolError(issue: { input?: unknown }): string {
  if (issue.input === undefined || issue.input === null) return "required field missing";
  if (typeof issue.input === "string" && KONG_PROTOCOLS.includes(issue.input))
    return `protocol '${issue.input}' is not supported: expected one of: ${PROTOCOLS.join(", ")}`;
  return `expected one of: ${KONG_PROTOCOLS.join(", ")}`;
}

export const protocol = lazy(() =>
  z
    .enum(PROTOCOLS, { error: protocolError })
    .meta({ graphql: "Protocol", description: "A service's or route's protocol (wire values, as in REST)." }),
);
