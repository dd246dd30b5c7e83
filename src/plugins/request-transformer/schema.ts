// request-transformer config (Kong's bundled plugin, priority 801; kong/plugins/request-transformer/schema.lua).
// Templates are compiled here, when the config is written: one that is not supported is refused now (Kong
// compiles Lua and fails at request time with a 500).
import { z } from "zod";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configRecord } from "../config-fields.ts";
import { headerRename, splitEntry, templateProblem, validHeader } from "./entries.ts";

const string = lazy(() => z.string({ error: typeError("expected a string") }));

/** An entry with Kong's checks: `colon` is its `match = "^[^:]+:.*$"`, then `check` gives a message or null. */
const entry = (check: (entry: string) => string | null, colon: boolean) =>
  string().superRefine((value, ctx) => {
    const problem = colon && !/^[^:]+:/.test(value) ? `invalid value: ${value}` : check(value);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });

const array = (element: z.ZodType<string>) =>
  z.array(element, { error: typeError("expected an array") }).default([]);

/** Kong's validate_headers: the name before any colon must be a header name. */
const headerName = (e: string) => validHeader(splitEntry(e).name);
/** A header value is a template too (Kong does not check it when written; here it is). */
const headerValue = (e: string) => headerName(e) ?? templateProblem(splitEntry(e).value);
/** Kong's check_for_value: a name, a value, and a template that compiles. */
const valued = (e: string) => {
  const { name, value } = splitEntry(e);
  return value === "" ? `key '${name}' has no value` : templateProblem(value);
};

const valuedRecord = () =>
  configRecord({
    body: array(entry(valued, false)),
    headers: array(entry(headerValue, true)),
    querystring: array(entry(valued, false)),
  });

export const requestTransformerConfig = lazy(() =>
  z.strictObject({
    http_method: string()
      .regex(/^[A-Z]+$/, { error: (issue) => `invalid value: ${issue.input}` })
      .nullable()
      .default(null),
    remove: configRecord({
      body: array(string()),
      headers: array(entry(headerName, false)),
      querystring: array(string()),
    }),
    rename: configRecord({
      body: array(entry(valued, false)),
      headers: array(entry(headerRename, true)),
      querystring: array(entry(valued, false)),
    }),
    replace: configRecord({
      body: array(entry(valued, false)),
      headers: array(entry(headerValue, true)),
      querystring: array(entry(valued, false)),
      uri: entry(templateProblem, false).nullable().default(null),
    }),
    add: valuedRecord(),
    append: valuedRecord(),
  }),
);

export type RequestTransformerConfig = z.output<ReturnType<typeof requestTransformerConfig>>;
