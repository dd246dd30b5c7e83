// custom_fields templates of the log plugins: what parses, what is refused, how values render (typed when a
// template is one placeholder, text otherwise), nesting by dotted names, and that only the record's own
// fields are found.
import { describe, expect, test } from "bun:test";
import {
  applyCustomFields,
  compileCustomFields,
  customFieldsSchema,
  parseTemplate,
} from "../../src/plugins/log-fields.ts";

const record = () =>
  ({
    request: { headers: { "x-tenant": "acme", "user-agent": "curl" }, querystring: { tags: ["a", "b"] } },
    latencies: { request: 12, proxy: -1 },
    consumer: { username: "bob" },
    route: { id: "r1", name: null },
  }) as Record<string, unknown>;

describe("parseTemplate", () => {
  test.each([
    ["plain text", ["plain text"]],
    ["$(request.headers.x-tenant)", [["request", "headers", "x-tenant"]]],
    ["t=$( latencies.request )ms", ["t=", ["latencies", "request"], "ms"]],
    ["$(a)$(b)", [["a"], ["b"]]],
  ])("%p parses", (template, parts) => {
    expect(parseTemplate(template)).toEqual(parts as never);
  });

  test.each([
    ["$(os.execute('id'))", "'$(os.execute('id')' is not a field of the log record"],
    ["$()", "'$()' is not a field of the log record"],
    ["$(a..b)", "'$(a..b)' is not a field of the log record"],
    ["x $(unclosed", "an unclosed '$(' in the template"],
  ])("%p is refused", (template, message) => {
    expect(String(parseTemplate(template))).toStartWith(message);
  });
});

describe("applyCustomFields", () => {
  test("one placeholder keeps the type; text renders values as text and absent ones as empty", () => {
    const r = record();
    applyCustomFields(
      r,
      compileCustomFields({
        tenant: "$(request.headers.x-tenant)",
        total: "$(latencies.request)",
        missing: "$(request.headers.x-none)",
        route_name: "$(route.name)",
        tags: "$(request.querystring.tags)",
        line: "$(consumer.username) took $(latencies.request) ms via $(request.headers.x-none)",
        "timing.proxy": "$(latencies.proxy)",
      }),
    );
    expect(r).toMatchObject({
      tenant: "acme",
      total: 12,
      missing: null,
      route_name: null,
      tags: ["a", "b"],
      line: "bob took 12 ms via ",
      timing: { proxy: -1 },
    });
  });

  test("every template reads the record as it was; a dotted name replaces a scalar on its way", () => {
    const r = record();
    applyCustomFields(
      r,
      compileCustomFields({ consumer: "x", copy: "$(consumer.username)", "latencies.request.ms": "1" }),
    );
    expect(r.consumer).toBe("x");
    expect(r.copy).toBe("bob");
    expect(r.latencies).toEqual({ request: { ms: "1" }, proxy: -1 });
  });

  test("inherited names are never found", () => {
    const r = record();
    applyCustomFields(
      r,
      compileCustomFields({ a: "$(constructor)", b: "$(request.__proto__)", c: "$(consumer.toString)" }),
    );
    expect([r.a, r.b, r.c]).toEqual([null, null, null]);
  });

  test("field names that would reach a prototype are ignored (and refused by the schema)", () => {
    const r = record();
    applyCustomFields(
      r,
      compileCustomFields({ "__proto__.polluted": "yes", "constructor.prototype.x": "1" }),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(customFieldsSchema().safeParse({ "__proto__.polluted": "yes" }).error?.issues[0]?.message).toBe(
      "__proto__, constructor and prototype are not allowed in field names",
    );
  });

  test("no custom fields: the record is unchanged", () => {
    const r = record();
    applyCustomFields(r, compileCustomFields(null));
    expect(r).toEqual(record());
  });
});
