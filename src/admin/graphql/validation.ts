// Argument and input checks for @pothos/plugin-validation, built on the same zod schemas and rule
// functions the store and REST use. The failure hook (errors.ts) turns their issues into Kong's errors.
import type { StandardSchemaV1 } from "@pothos/plugin-validation";
import { z } from "zod";
import { type GatewayError, isGatewayError } from "../../errors.ts";
import { isUuid, validateName, validateTag } from "../../schemas/common.ts";
import { type EntityDefinition, parseEntityKey } from "../../store/entity-def.ts";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const MAX_TAG_FILTERS = 5;

/** `idOrName`: a UUID, or a valid name (Kong rejects a malformed key before looking it up: code 10). */
export const entityKeyCheck = z.string().superRefine((key, ctx) => {
  if (isUuid(key)) return;
  const invalid = validateName(key);
  if (invalid) ctx.addIssue({ code: "custom", message: invalid });
});

/**
 * An entity's key argument (`idOrName`, a credential's `idOrKey`, the `consumer` owning a credential): a
 * UUID, or an endpoint key the store accepts (code 10, named after the key's field as REST names it).
 */
export function keyCheck(def: EntityDefinition) {
  return z.string().superRefine((key, ctx) => {
    const invalid = invalidKey(def, key);
    if (invalid)
      ctx.addIssue({
        code: "custom",
        message: invalid.message,
        params: { invalidUnique: invalid.displayName },
      });
  });
}

function invalidKey(def: EntityDefinition, key: string): GatewayError | null {
  try {
    parseEntityKey(def, key);
    return null;
  } catch (error) {
    if (isGatewayError(error)) return error;
    throw error;
  }
}

/** `size`: Kong's page size bounds (code 9). */
export const sizeCheck = z
  .number()
  .refine((size) => Number.isInteger(size) && size >= 1 && size <= MAX_PAGE_SIZE, {
    error: `size must be an integer between 1 and ${MAX_PAGE_SIZE}`,
  });

/** `tags`: each a valid tag, at most five (code 11), with the messages REST gives for `?tags=`. */
export const tagsCheck = z.array(z.string()).superRefine((tags, ctx) => {
  if (tags.some((tag) => validateTag(tag) !== null))
    ctx.addIssue({ code: "custom", message: "invalid option (tags: invalid filter syntax)" });
  else if (tags.length > MAX_TAG_FILTERS)
    ctx.addIssue({
      code: "custom",
      message: `invalid option (tags: cannot query more than ${MAX_TAG_FILTERS} tags)`,
    });
});

/**
 * Checks a mutation's `input` with the entity's zod schema, on the exact body the store will validate
 * (`prepare` builds it from the arguments), so GraphQL can never accept what REST refuses or the other
 * way round. It only checks: the resolver still hands the untouched body to the store.
 */
export function inputCheck<Args extends Record<string, unknown>>(
  schema: z.ZodType,
  prepare: (args: Args) => unknown,
): StandardSchemaV1<Args, Args> {
  return {
    "~standard": {
      version: 1,
      vendor: "portico",
      validate(value) {
        const args = value as Args;
        let body: unknown;
        try {
          body = prepare(args);
        } catch (error) {
          const params = isGatewayError(error) ? { invalidUnique: error.displayName } : undefined;
          return { issues: [{ message: (error as Error).message, path: ["idOrName"], params }] };
        }
        const result = schema.safeParse(body);
        if (result.success) return { value: args };
        return { issues: result.error.issues.map((issue) => ({ ...issue, path: ["input", ...issue.path] })) };
      },
    },
  };
}

/** The body of a PUT as the store sees it: the key in `idOrName` names the entity, whatever the input says. */
export function upsertBody(
  def: EntityDefinition,
  idOrName: string,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const key = parseEntityKey(def, idOrName);
  const { id: _id, created_at: _c, updated_at: _u, ...rest } = body;
  return { ...rest, [key.column]: key.value };
}
