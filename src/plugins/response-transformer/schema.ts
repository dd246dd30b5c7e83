// response-transformer config (Kong's bundled plugin, priority 800; kong/plugins/response-transformer/schema.lua).
import { z } from "zod";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configRecord } from "../config-fields.ts";
import { headerRename } from "../request-transformer/entries.ts";

const string = lazy(() => z.string({ error: typeError("expected a string") }));

const array = <T>(element: z.ZodType<T>) =>
  z.array(element, { error: typeError("expected an array") }).default([]);

/** Kong's `match = "^[^:]+:.*$"`. */
const colon = lazy(() => string().regex(/^[^:]+:/, { error: (issue) => `invalid value: ${issue.input}` }));

export const JSON_TYPES = ["boolean", "number", "string"] as const;

const valued = () =>
  configRecord({
    json: array(colon()),
    json_types: array(z.enum(JSON_TYPES, { error: typeError(`expected one of: ${JSON_TYPES.join(", ")}`) })),
    headers: array(colon()),
  });

export const responseTransformerConfig = lazy(() =>
  z.strictObject({
    remove: configRecord({ json: array(string()), headers: array(string()) }),
    rename: configRecord({
      json: array(colon()),
      headers: array(
        colon().superRefine((entry, ctx) => {
          const problem = headerRename(entry);
          if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
        }),
      ),
    }),
    replace: valued(),
    add: valued(),
    append: valued(),
  }),
);

export type ResponseTransformerConfig = z.output<ReturnType<typeof responseTransformerConfig>>;
