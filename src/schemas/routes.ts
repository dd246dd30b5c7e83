// Route: how requests reach a service (kong/db/schema/entities/routes.lua, traditional_compatible flavour).
import { z } from "zod";
import {
  boolean,
  defaulted,
  foreignRef,
  integer,
  isHostname,
  isIpv4,
  isIpv6,
  name,
  nullable,
  PROTOCOLS,
  protocol,
  requiredWithDefault,
  set,
  tags,
  timestamp,
  typeError,
  uuid,
  validatePath,
} from "./common.ts";
import { lazy } from "./lazy.ts";
import { normalizePath } from "./normalize-path.ts";
import { compileHeaderRegex, compilePathRegex, regexError } from "./route-matchers.ts";

function check(validate: (value: string) => string | null) {
  return (value: string, ctx: z.RefinementCtx) => {
    const message = validate(value);
    if (message !== null) ctx.addIssue({ code: "custom", message });
  };
}

/** Route hosts: a hostname or IP with at most one `*` as the leftmost or rightmost label, optional `:port`. */
export function validateRouteHost(value: string): string | null {
  if (value.length === 0) return "length must be at least 1";
  let hostPart = value;
  const portMatch = /^(.*[^:]):(\d{1,5})$/.exec(value);
  if (portMatch && !isIpv6(value)) {
    if (Number(portMatch[2]) > 65535) return `invalid port number: ${portMatch[2]}`;
    hostPart = portMatch[1]!;
  }
  const stars = hostPart.split("*").length - 1;
  if (stars > 1) return "invalid wildcard: must have at most one wildcard";
  if (stars === 1) {
    if (!hostPart.startsWith("*.") && !hostPart.endsWith(".*"))
      return "invalid wildcard: must be placed at leftmost or rightmost label";
    const rest = hostPart.startsWith("*.") ? hostPart.slice(2) : hostPart.slice(0, -2);
    return isHostname(rest) ? null : `invalid value: ${value}`;
  }
  if (isIpv4(hostPart) || isIpv6(hostPart) || isHostname(hostPart)) return null;
  return `invalid value: ${value}`;
}

/** Route paths: a normalised prefix (`/foo`) or an anchored regex (`~/foo/\d+$`). */
export function validateRoutePath(value: string): string | null {
  if (value.startsWith("~")) {
    const pattern = value.slice(1);
    if (pattern.length === 0) return "length must be at least 1";
    return regexError(compilePathRegex, pattern);
  }
  const invalid = validatePath(value);
  if (invalid) return invalid;
  const normal = normalizePath(value);
  if (normal !== value) return `non-normalized path, consider use '${normal}' instead`;
  return null;
}

const METHOD = lazy(() =>
  z
    .string({ error: typeError("expected a string") })
    .superRefine(check((m) => (/^[A-Z]+$/.test(m) ? null : `invalid value: ${m}`))),
);

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A header value: compared case-insensitively, or a regex after `~*`. */
export function validateHeaderValue(value: string): string | null {
  if (value.length === 0) return "length must be at least 1";
  return value.startsWith("~*") ? regexError(compileHeaderRegex, value.slice(2)) : null;
}

const headers = lazy(() =>
  z
    .record(
      z.string(),
      z
        .array(z.string({ error: typeError("expected a string") }).superRefine(check(validateHeaderValue)), {
          error: typeError("expected an array"),
        })
        .min(1, "length must be at least 1"),
      { error: typeError("expected a map") },
    )
    .superRefine((map, ctx) => {
      // Header names are case-insensitive: two spellings of one name would be ambiguous.
      const seen = new Set<string>();
      for (const key of Object.keys(map)) {
        const lower = key.toLowerCase();
        let message: string | null = null;
        if (lower === "host") message = "cannot contain 'host' header";
        else if (!HEADER_NAME.test(key)) message = `invalid header name: ${key}`;
        else if (seen.has(lower)) message = `duplicate header name: ${key}`;
        if (message) ctx.addIssue({ code: "custom", message });
        seen.add(lower);
      }
    })
    .meta({
      graphql: "Header",
      description: "A request header a route matches: any of `values` (a `~*` prefix makes a value a regex).",
    }),
);

/** A stream route's source or destination: an address (or CIDR range) and a port. */
const endpointRecord = lazy(() =>
  z
    .strictObject(
      {
        ip: z.string({ error: typeError("expected a string") }).optional(),
        port: integer(0, 65535).optional(),
      },
      { error: typeError("expected a record") },
    )
    .meta({
      graphql: "StreamEndpoint",
      description:
        "A stream route's source or destination (always null on Portico's http(s) routes, as Kong's).",
    }),
);

export const REDIRECT_STATUS_CODES = [426, 301, 302, 307, 308] as const;

export const routeFields = lazy(() => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  name: nullable(name()),
  protocols: requiredWithDefault(
    set(protocol()).refine((p) => p.length > 0, { error: "length must be at least 1" }),
    [...PROTOCOLS],
  ),
  methods: nullable(set(METHOD())),
  hosts: nullable(
    z.array(z.string({ error: typeError("expected a string") }).superRefine(check(validateRouteHost)), {
      error: typeError("expected an array"),
    }),
  ),
  paths: nullable(
    z.array(z.string({ error: typeError("expected a string") }).superRefine(check(validateRoutePath)), {
      error: typeError("expected an array"),
    }),
  ),
  headers: nullable(headers()),
  snis: nullable(
    set(z.string({ error: typeError("expected a string") }).min(1, "length must be at least 1")),
  ),
  https_redirect_status_code: requiredWithDefault(
    z
      .number({ error: typeError("expected an integer") })
      .int({ error: "expected an integer" })
      .refine((c) => (REDIRECT_STATUS_CODES as readonly number[]).includes(c), {
        error: `expected one of: ${REDIRECT_STATUS_CODES.join(", ")}`,
      }),
    426,
  ),
  regex_priority: defaulted(integer(-2147483648, 2147483647), 0),
  strip_path: requiredWithDefault(boolean(), true),
  path_handling: requiredWithDefault(
    z.enum(["v0", "v1"], { error: typeError("expected one of: v0, v1") }).meta({
      graphql: "PathHandling",
      description: "How the route's path joins the service's path (Kong: v1 is deprecated).",
    }),
    "v0",
  ),
  preserve_host: requiredWithDefault(boolean(), false),
  request_buffering: requiredWithDefault(boolean(), true),
  response_buffering: requiredWithDefault(boolean(), true),
  tags: tags(),
  /** Stream routes only (tcp/tls/udp): always null or empty on Portico's http(s) routes, as Kong's. */
  sources: nullable(z.array(endpointRecord(), { error: typeError("expected a set") })),
  destinations: nullable(z.array(endpointRecord(), { error: typeError("expected a set") })),
  service: nullable(foreignRef()),
}));

const isSet = (v: unknown[] | Record<string, unknown> | null) =>
  v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);

export const routeSchema = lazy(() =>
  z.strictObject(routeFields(), { error: "expected a record" }).superRefine((route, ctx) => {
    const https = route.protocols.includes("https");
    if (route.snis !== null && route.snis.length > 0 && !https)
      ctx.addIssue({
        code: "custom",
        path: ["snis"],
        message: "'snis' can only be set when 'protocols' is 'grpcs', 'tls', 'https' or 'tls_passthrough'",
      });
    for (const field of ["sources", "destinations"] as const)
      if (route[field] !== null && route[field].length > 0) {
        ctx.addIssue({ code: "custom", path: [field], message: "length must be 0" });
        ctx.addIssue({
          code: "custom",
          path: ["@entity"],
          message: "failed conditional validation given value of field 'protocols'",
        });
      }
    const hasMatcher =
      isSet(route.methods) ||
      isSet(route.hosts) ||
      isSet(route.headers) ||
      isSet(route.paths) ||
      (https && isSet(route.snis));
    if (!hasMatcher)
      ctx.addIssue({
        code: "custom",
        path: ["@entity"],
        message: https
          ? "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"
          : "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'",
      });
  }),
);

/** A stored route: the service reference is always `{id}` once the store has resolved it. */
export type Route = Omit<
  z.output<ReturnType<typeof routeSchema>>,
  "id" | "created_at" | "updated_at" | "service"
> & {
  id: string;
  created_at: number;
  updated_at: number;
  service: { id: string } | null;
};
