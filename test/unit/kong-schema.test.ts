// The zod → Kong schema converter (src/admin/kong-schema.ts): each zod construct and each piece of metadata
// becomes the attribute Kong's schema_to_jsonable would render for the same rule.
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import {
  type KongSchemaInput,
  kongField,
  kongValue,
  toKongPluginSchema,
  toKongSchema,
} from "../../src/admin/kong-schema.ts";
import { UUID_PATTERN } from "../../src/schemas/common.ts";

describe("values", () => {
  test.each([
    ["a plain string", z.string(), { type: "string" }],
    ["a string of at least 1 (Kong's implicit rule, unsaid)", z.string().min(1), { type: "string" }],
    ["a string of 3 to 8", z.string().min(3).max(8), { type: "string", len_min: 3, len_max: 8 }],
    ["a string matching the UUID pattern", z.string().regex(UUID_PATTERN), { type: "string", uuid: true }],
    ["zod's own uuid", z.uuid(), { type: "string", uuid: true }],
    ["another pattern (JavaScript's, not a Lua pattern)", z.string().regex(/^[a-z]+$/), { type: "string" }],
    ["an integer in a range", z.number().int().min(0).max(64), { type: "integer", between: [0, 64] }],
    ["a number in a range", z.number().min(0).max(1.5), { type: "number", between: [0, 1.5] }],
    ["a number with a lower bound only", z.number().min(1), { type: "number" }],
    ["a boolean", z.boolean(), { type: "boolean" }],
    ["an enum", z.enum(["v0", "v1"]), { type: "string", one_of: ["v0", "v1"] }],
    ["integer literals", z.literal([426, 301]), { type: "integer", one_of: [426, 301] }],
    ["an array", z.array(z.string()), { type: "array", elements: { type: "string" } }],
    [
      "a non-empty array",
      z.array(z.boolean()).min(1),
      { type: "array", len_min: 1, elements: { type: "boolean" } },
    ],
    [
      "an array whose duplicates collapse (Kong's set)",
      z.array(z.string()).transform((v) => [...new Set(v)]),
      { type: "set", elements: { type: "string" } },
    ],
    [
      "a record keyed by strings (Kong's map)",
      z.record(z.string(), z.array(z.string())),
      { type: "map", keys: { type: "string" }, values: { type: "array", elements: { type: "string" } } },
    ],
    ["something Kong has no type for", z.date(), { type: "string" }],
  ] as const)("%s", (_name, schema, expected) => {
    expect(kongValue(schema as z.ZodType)).toEqual(expected as never);
  });

  test("an object is a record whose fields keep their order, requiredness and defaults", () => {
    const schema = z.strictObject({
      names: z.array(z.string()).default(["apikey"]),
      anonymous: z.string().nullable().default(null),
      hide: z.boolean().default(false),
      realm: z.string(),
    });
    expect(kongValue(schema)).toEqual({
      type: "record",
      fields: [
        { names: { type: "array", elements: { type: "string" }, required: true, default: ["apikey"] } },
        { anonymous: { type: "string" } },
        { hide: { type: "boolean", required: true, default: false } },
        { realm: { type: "string", required: true } },
      ],
    });
  });
});

describe("fields: required and default", () => {
  test.each([
    ["refused when null or absent", z.string(), { type: "string", required: true }],
    [
      "refused when null, defaulted when absent",
      z.string().default("x"),
      { type: "string", required: true, default: "x" },
    ],
    [
      "nullable, defaulting to null (unsaid, as Kong)",
      z.string().nullable().default(null),
      { type: "string" },
    ],
    ["optional", z.string().optional(), { type: "string" }],
    [
      "a preprocess step that turns null into the default",
      z.preprocess((v) => (v === null ? undefined : v), z.number().int().min(1).max(9).default(5)),
      { type: "integer", between: [1, 9], default: 5 },
    ],
    [
      "a record filled in when absent: its default is the whole filled-in value",
      z.strictObject({ a: z.number().default(1), b: z.boolean().default(true) }).prefault({}),
      {
        type: "record",
        fields: [
          { a: { type: "number", required: true, default: 1 } },
          { b: { type: "boolean", required: true, default: true } },
        ],
        required: true,
        default: { a: 1, b: true },
      },
    ],
    [
      "a refined value keeps its type",
      z.number().refine((n) => n % 2 === 0),
      { type: "number", required: true },
    ],
  ] as const)("%s", (_name, schema, expected) => {
    expect(kongField(schema as z.ZodType)).toEqual(expected as never);
  });

  test("a preprocess step that throws on null counts as refusing null, and the converter does not throw", () => {
    const schema = z.preprocess((v) => (v as string).trim(), z.string());
    expect(kongField(schema)).toEqual({ type: "string", required: true });
  });
});

describe("entities", () => {
  const shape = {
    id: z.string().regex(UUID_PATTERN).optional(),
    created_at: z.number().int().optional(),
    name: z.string().nullable().default(null),
    key: z.string().default(() => crypto.randomUUID()),
    owner: z.strictObject({ id: z.string() }),
    parent: z.strictObject({ id: z.string() }).nullable().default(null),
    code: z
      .number()
      .int()
      .refine((c) => c === 426 || c === 301),
    config: z.record(z.string(), z.unknown()).nullable().default(null),
    url: z.string().optional(),
  };
  const input: KongSchemaInput = {
    shape,
    fields: ["id", "created_at", "name", "key", "owner", "parent", "code", "config"],
    references: [
      { field: "owner", entity: "owners", onDelete: "cascade" },
      { field: "parent", entity: "parents", onDelete: "restrict" },
    ],
    uniques: [["name"], ["owner", "key"]],
    auto: ["id", "created_at", "key"],
    timestamps: ["created_at"],
    abstract: ["config"],
    attributes: { code: { one_of: [426, 301] } },
    entityChecks: [{ at_least_one_of: ["name", "key"] }],
  };

  test("metadata adds what zod cannot say; fields come in the given order, shorthands left out", () => {
    expect(toKongSchema(input)).toEqual({
      fields: [
        { id: { type: "string", uuid: true, auto: true } },
        { created_at: { type: "integer", auto: true, timestamp: true } },
        // a group of one is unique; (owner, key) together is not a field attribute
        { name: { type: "string", unique: true } },
        // generated: auto, never required, no (random) default
        { key: { type: "string", auto: true } },
        // a required reference; cascade is said, restrict (Kong's default) is not
        { owner: { type: "foreign", reference: "owners", required: true, on_delete: "cascade" } },
        { parent: { type: "foreign", reference: "parents" } },
        { code: { type: "integer", required: true, one_of: [426, 301] } },
        { config: { type: "record", abstract: true } },
      ],
      entity_checks: [{ at_least_one_of: ["name", "key"] }],
    });
  });

  test("a field missing from the schema is a programming error", () => {
    expect(() => toKongSchema({ ...input, fields: ["id", "nope"] })).toThrow(
      "field 'nope' is not in the schema",
    );
  });

  test("without metadata, an entity is just its fields", () => {
    expect(
      toKongSchema({
        shape: { n: z.number().int() },
        fields: ["n"],
        references: [],
        uniques: [],
        auto: [],
        timestamps: [],
      }),
    ).toEqual({ fields: [{ n: { type: "integer", required: true } }], entity_checks: [] });
  });
});

describe("plugins", () => {
  const config = z.strictObject({ allow: z.array(z.string()).nullable().default(null) });
  const protocols = z
    .array(z.enum(["http", "https"]))
    .transform((v) => [...new Set(v)])
    .default(["http", "https"]);

  const consumerOnly = [{ field: "consumer", entity: "consumers" }];

  test("a plugin that identifies consumers: consumer must be null, then protocols and the config record", () => {
    expect(
      toKongPluginSchema({ config, protocols, nullScopes: consumerOnly, entityChecks: [{ x: 1 }] }),
    ).toEqual({
      fields: [
        { consumer: { type: "foreign", reference: "consumers", eq: null } },
        {
          protocols: {
            type: "set",
            elements: { type: "string", one_of: ["http", "https"] },
            required: true,
            default: ["http", "https"],
          },
        },
        {
          config: {
            type: "record",
            required: true,
            fields: [{ allow: { type: "array", elements: { type: "string" } } }],
          },
        },
      ],
      entity_checks: [{ x: 1 }],
    });
  });

  test("each scope a plugin refuses is a reference that must be null, in the order given", () => {
    const scopes = [
      { field: "route", entity: "routes" },
      { field: "consumer", entity: "consumers" },
    ];
    expect(toKongPluginSchema({ config, protocols, nullScopes: scopes }).fields.slice(0, 2)).toEqual([
      { route: { type: "foreign", reference: "routes", eq: null } },
      { consumer: { type: "foreign", reference: "consumers", eq: null } },
    ]);
  });

  test("a plugin that may be scoped anywhere declares no scope field", () => {
    const schema = toKongPluginSchema({ config, protocols, nullScopes: [] });
    expect(schema.fields.map((f) => Object.keys(f)[0])).toEqual(["protocols", "config"]);
    expect(schema.entity_checks).toEqual([]);
  });
});
