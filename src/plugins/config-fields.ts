// Field types shared by plugin config schemas (Kong's plugin typedefs), with Kong's messages.
import { z } from "zod";
import { typeError } from "../schemas/common.ts";
import { lazy } from "../schemas/lazy.ts";

export const configBoolean = (value: boolean) =>
  z.boolean({ error: typeError("expected a boolean") }).default(value);

export const configString = lazy(() =>
  z.string({ error: typeError("expected a string") }).min(1, "length must be at least 1"),
);

export const stringArray = (value: string[]) =>
  z.array(configString(), { error: typeError("expected an array") }).default(value);

/** `anonymous`: a consumer id or username used when authentication fails (null = reject). */
export const anonymous = lazy(() => configString().nullable().default(null));

/** HTTP header / parameter names as Kong validates them. */
export const headerName = lazy(() =>
  z.string({ error: typeError("expected a string") }).regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, {
    error: "bad header name, allowed characters are A-Z, a-z, 0-9, '_', and '-'",
  }),
);

/** A nested config record: absent or null takes every default, a partial one fills in the rest. */
export function configRecord<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess(
    (value) => (value === null ? undefined : value),
    // Every field has a default, so an empty record is complete.
    z.strictObject(shape, { error: typeError("expected a record") }).prefault({} as never),
  );
}
