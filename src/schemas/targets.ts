// Target: one host[:port] of an upstream, with a weight (kong/db/schema/entities/targets.lua and the DAO's
// normalisation in kong/db/dao/targets.lua). Targets exist only under their upstream.
import { z } from "zod";
import { defaulted, foreignRef, integer, tags, typeError, uuid } from "./common.ts";
import { formatHostPort, type HostPort, parseHostPort } from "./host-port.ts";
import { lazy } from "./lazy.ts";

/** The port a target without one gets (Kong's DEFAULT_PORT in the targets DAO). */
export const DEFAULT_TARGET_PORT = 8000;

export const INVALID_TARGET = "Invalid target; not a valid hostname or ip address";

/** Kong's message when an update names an invalid target (its schema validator, which quotes the value). */
export const invalidTargetNamed = (value: string) =>
  `Invalid target ('${value}'); not a valid hostname or ip address`;

/** `a.test` → `a.test:8000`, `::1` → `[0000:…:0001]:8000`; null when it is no host[:port]. */
export function normalizeTarget(value: string): string | null {
  const parsed = parseHostPort(value);
  return typeof parsed === "string" ? null : formatHostPort(parsed, DEFAULT_TARGET_PORT);
}

/** A stored (normalised) target split into host and port. */
export function splitTarget(target: string): HostPort & { port: number } {
  const parsed = parseHostPort(target);
  if (typeof parsed === "string") throw new Error(`not a normalised target: ${target}`);
  return { ...parsed, port: parsed.port ?? DEFAULT_TARGET_PORT };
}

const milliseconds = lazy(() => z.number({ error: typeError("expected a number") }));

export const targetFields = lazy(() => ({
  id: uuid().optional(),
  created_at: milliseconds().optional(),
  updated_at: milliseconds().optional(),
  upstream: foreignRef(),
  target: z.string({ error: typeError("expected a string") }).transform((value, ctx) => {
    const normalized = normalizeTarget(value);
    if (normalized === null) {
      ctx.addIssue({ code: "custom", message: INVALID_TARGET });
      return z.NEVER;
    }
    return normalized;
  }),
  weight: defaulted(integer(0, 65535), 100),
  tags: tags(),
}));

export const targetSchema = lazy(() => z.strictObject(targetFields(), { error: "expected a record" }));

/** A validated target as stored and rendered; timestamps are seconds with millisecond precision. */
export type Target = Omit<
  z.output<ReturnType<typeof targetSchema>>,
  "id" | "created_at" | "updated_at" | "upstream"
> & {
  id: string;
  created_at: number;
  updated_at: number;
  upstream: { id: string };
};
