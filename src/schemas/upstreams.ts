// Upstream: a virtual host name balanced over targets (kong/db/schema/entities/upstreams.lua). A service whose
// host equals an upstream's name is sent to the upstream's targets.
import { z } from "zod";
import {
  boolean,
  defaulted,
  integer,
  nullable,
  path,
  refineWith,
  tags,
  text,
  timestamp,
  typeError,
  uuid,
} from "./common.ts";
import { healthchecksSchema } from "./healthchecks.ts";
import { parseHostPort } from "./host-port.ts";
import { validateCookieName, validateHeaderName } from "./http-names.ts";
import { lazy } from "./lazy.ts";

export const ALGORITHMS = ["consistent-hashing", "least-connections", "round-robin", "latency"] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const HASH_ON = [
  "none",
  "consumer",
  "ip",
  "header",
  "cookie",
  "path",
  "query_arg",
  "uri_capture",
] as const;
export type HashOn = (typeof HASH_ON)[number];

/** Kong's upstream name: a host name, never an IP address, never with a port. */
export function validateUpstreamName(value: string): string | null {
  const label = `Invalid name ('${value}')`;
  const parsed = parseHostPort(value);
  if (typeof parsed === "string") return `${label}; must be a valid hostname`;
  if (parsed.kind !== "name") return `${label}; no ip addresses allowed`;
  if (parsed.port !== null) return `${label}; no port allowed`;
  return null;
}

const string = () => z.string({ error: typeError("expected a string") });

/** Kong's host_with_optional_port: normalize_ip's own error text. */
function validateHostWithOptionalPort(value: string): string | null {
  const parsed = parseHostPort(value);
  return typeof parsed === "string" ? parsed : null;
}

export const upstreamFields = lazy(() => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  name: string().superRefine(refineWith(validateUpstreamName)),
  algorithm: defaulted(
    z.enum(ALGORITHMS, { error: typeError(`expected one of: ${ALGORITHMS.join(", ")}`) }),
    "round-robin",
  ),
  hash_on: defaulted(z.enum(HASH_ON, { error: typeError(`expected one of: ${HASH_ON.join(", ")}`) }), "none"),
  // One of HASH_ON too, but checked with the entity checks: which values are allowed depends on hash_on.
  hash_fallback: defaulted(string(), "none"),
  hash_on_header: nullable(string().superRefine(refineWith(validateHeaderName))),
  hash_fallback_header: nullable(string().superRefine(refineWith(validateHeaderName))),
  hash_on_cookie: nullable(string().superRefine(refineWith(validateCookieName))),
  hash_on_cookie_path: defaulted(path(), "/"),
  hash_on_query_arg: nullable(text()),
  hash_fallback_query_arg: nullable(text()),
  hash_on_uri_capture: nullable(text()),
  hash_fallback_uri_capture: nullable(text()),
  slots: defaulted(integer(10, 65536), 10000),
  healthchecks: healthchecksSchema(),
  tags: tags(),
  host_header: nullable(string().superRefine(refineWith(validateHostWithOptionalPort))),
  client_certificate: nullable(z.strictObject({ id: uuid() }, { error: "expected a record" })),
  use_srv_name: defaulted(boolean(), false),
}));

/** hash_fallback may not repeat hash_on (cookie and none allow no fallback at all), in Kong's listed order. */
const FALLBACKS_AFTER: Partial<Record<HashOn, readonly string[]>> = {
  none: ["none"],
  cookie: ["none"],
  consumer: ["none", "ip", "header", "cookie", "path", "query_arg", "uri_capture"],
  ip: ["none", "consumer", "header", "cookie", "path", "query_arg", "uri_capture"],
  path: ["none", "consumer", "header", "cookie", "query_arg", "ip", "uri_capture"],
};

/** Which field each hashing input needs, for hash_on and for hash_fallback. */
const REQUIRED_BY: Record<"hash_on" | "hash_fallback", Partial<Record<HashOn, string>>> = {
  hash_on: {
    header: "hash_on_header",
    cookie: "hash_on_cookie",
    query_arg: "hash_on_query_arg",
    uri_capture: "hash_on_uri_capture",
  },
  hash_fallback: {
    header: "hash_fallback_header",
    cookie: "hash_on_cookie",
    query_arg: "hash_fallback_query_arg",
    uri_capture: "hash_fallback_uri_capture",
  },
};

const DISTINCT = [
  ["hash_on_header", "hash_fallback_header"],
  ["hash_on_query_arg", "hash_fallback_query_arg"],
  ["hash_on_uri_capture", "hash_fallback_uri_capture"],
] as const;

const isHashOn = (value: unknown): value is HashOn =>
  typeof value === "string" && (HASH_ON as readonly string[]).includes(value);

/**
 * Kong's entity checks. They run even when some field failed (Kong reports both), so they read the values
 * defensively; a conditional on hash_fallback replaces its plain one-of message, as in Kong.
 */
function entityChecks(upstream: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const failed = (ifField: string, field: string, message: string) => {
    ctx.addIssue({
      code: "custom",
      path: ["@entity"],
      message: `failed conditional validation given value of field '${ifField}'`,
    });
    ctx.addIssue({ code: "custom", path: [field], message });
  };
  const { hash_on: hashOn, hash_fallback: fallback } = upstream;
  const allowed = isHashOn(hashOn) ? FALLBACKS_AFTER[hashOn] : undefined;
  if (typeof fallback === "string") {
    if (allowed && !allowed.includes(fallback))
      failed("hash_on", "hash_fallback", `expected one of: ${allowed.join(", ")}`);
    else if (!isHashOn(fallback))
      ctx.addIssue({
        code: "custom",
        path: ["hash_fallback"],
        message: `expected one of: ${HASH_ON.join(", ")}`,
      });
  }
  for (const ifField of ["hash_on", "hash_fallback"] as const) {
    const value = upstream[ifField];
    const needed = isHashOn(value) ? REQUIRED_BY[ifField][value] : undefined;
    if (needed && (upstream[needed] === null || upstream[needed] === undefined))
      failed(ifField, needed, "required field missing");
  }
  for (const [a, b] of DISTINCT) {
    const [x, y] = [upstream[a], upstream[b]];
    if (typeof x === "string" && x === y)
      ctx.addIssue({
        code: "custom",
        path: ["@entity"],
        message: `values of these fields must be distinct: '${a}', '${b}'`,
      });
  }
}

export const upstreamSchema = lazy(() =>
  z
    .strictObject(upstreamFields(), { error: "expected a record" })
    .superRefine((upstream, ctx) => entityChecks(upstream as Record<string, unknown>, ctx), {
      when: (payload) => typeof payload.value === "object" && payload.value !== null,
    })
    .transform((upstream) => ({ ...upstream, hash_fallback: upstream.hash_fallback as HashOn })),
);

/**
 * Kong's shorthands, applied to the fields a write names (before defaults and merging): algorithm
 * least-connections or latency resets hash_on; then hash_on none means round-robin and any other hash_on
 * means consistent-hashing.
 */
export function applyUpstreamShorthands(input: Record<string, unknown>): Record<string, unknown> {
  const out = { ...input };
  if (out.algorithm === "least-connections" || out.algorithm === "latency") out.hash_on = null;
  if ("hash_on" in out && out.hash_on !== undefined) {
    if (out.hash_on === null) out.hash_on = "none";
    else if (out.hash_on === "none") out.algorithm = "round-robin";
    else if (typeof out.hash_on === "string") out.algorithm = "consistent-hashing";
  }
  return out;
}

/** A validated upstream as stored and rendered. */
export type Upstream = Omit<
  z.output<ReturnType<typeof upstreamSchema>>,
  "id" | "created_at" | "updated_at"
> & {
  id: string;
  created_at: number;
  updated_at: number;
};
