// response-transformer's pure parts: Kong's json_types casts, what counts as a JSON body, the JSON operations'
// truthiness rules, and a __proto__ key kept as data.
import { describe, expect, test } from "bun:test";
import {
  castValue,
  isJsonBody,
  jsonEntries,
  transformJson,
} from "../../src/plugins/response-transformer/transform.ts";

const none = { remove: [], rename: [], replace: [], add: [], append: [] };

describe("response-transformer", () => {
  test("json_types casts by position", () => {
    expect(
      jsonEntries(["a:1", "b:true", "c:yes", "d:x", "e:"], ["number", "boolean", "boolean", "string"]),
    ).toEqual([
      { name: "a", value: 1 },
      { name: "b", value: true },
      { name: "c", value: false },
      { name: "d", value: "x" },
      { name: "e", value: null },
    ]);
    expect([
      castValue("1e3", "number"),
      castValue("0x10", "number"),
      castValue("abc", "number"),
      castValue(" ", "number"),
    ]).toEqual([1000, 16, null, null]);
  });

  test("JSON media types", () => {
    expect(isJsonBody("application/json")).toBe(true);
    expect(isJsonBody("Application/JSON; charset=utf-8")).toBe(true);
    expect(isJsonBody("text/plain, application/json")).toBe(true);
    expect(isJsonBody("application/problem+json")).toBe(false);
    expect(isJsonBody("text/json")).toBe(false);
    expect(isJsonBody(null)).toBe(false);
  });

  test("rename finds false and null; replace and add follow Lua truthiness", () => {
    const out = transformJson('{"f":false,"n":null,"s":"v"}', {
      ...none,
      rename: [
        { name: "f", value: "f2" },
        { name: "n", value: "n2" },
        { name: "missing", value: "m" },
      ],
      replace: [{ name: "s", value: 5 }],
      add: [
        { name: "f2", value: "now" },
        { name: "s", value: "never" },
      ],
    });
    expect(JSON.parse(out!)).toEqual({ s: 5, f2: "now", n2: null });
  });

  test("non-objects are not rewritten; __proto__ stays data", () => {
    expect(transformJson("[1]", { ...none, add: [{ name: "a", value: "1" }] })).toBeNull();
    expect(transformJson('"text"', { ...none, add: [{ name: "a", value: "1" }] })).toBeNull();
    const out = transformJson('{"__proto__":{"polluted":1}}', { ...none, add: [{ name: "a", value: "1" }] });
    expect(JSON.parse(out!)).toEqual({ ["__proto__"]: { polluted: 1 }, a: "1" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
