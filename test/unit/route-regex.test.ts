// Route regexes that could backtrack badly run on RE2 (linear time) with RegExp's answers; simple ones keep
// the native engine. Black-box counterpart: test/proxy/routing-regex.test.ts.
import { describe, expect, test } from "bun:test";
import { backtracksBadly, compileHeaderRegex, compilePathRegex } from "../../src/schemas/route-matchers.ts";

describe("which patterns leave the native engine", () => {
  test.each([
    ["/users/\\d+$", false],
    ["/api/v[0-9]+/items", false],
    ["/echo/(?<parameter>[a-z]+)/200$", false],
    ["/tpl/(?<user1>\\w+)/(?<user2>\\w+)$", false],
    ["/(a|b)/x", false],
    ["/a{3}/b{1,2}", false],
    ["/[(+*)]+x", false],
    ["/\\(a+\\)+", false],
    ["/(a+)+$", true],
    ["/(a*)*$", true],
    ["/(?:a|aa)+$", true],
    ["/(?<n>\\w+\\s?)*$", true],
    ["/a*a*a*b", true],
    ["/(a{1,9})+", true],
  ])("%s → %p", (pattern, expected) => {
    expect(backtracksBadly(pattern, 2)).toBe(expected);
  });
});

describe("the linear-time matcher answers like RegExp", () => {
  test("a catastrophic path pattern is fast and still matches, with numbered and named captures", () => {
    const regex = compilePathRegex("/(?<word>a+)+$");
    expect(regex instanceof RegExp).toBe(false);
    // The native engine would not finish this within the test's timeout.
    expect(regex.exec(`/${"a".repeat(5000)}!`)).toBeNull();
    const m = regex.exec("/aaa")!;
    expect([...m]).toEqual(["/aaa", "aaa"]);
    expect(m.index).toBe(0);
    expect({ ...m.groups }).toEqual({ word: "aaa" });
    expect(regex.test("/b")).toBe(false);
  });

  test("unmatched optional groups are undefined, Kong's (?P<name>) groups are named", () => {
    const regex = compilePathRegex("/(?P<a>x+)+(?<b>y)?(z)?/(\\w+)/(\\w+)");
    const m = regex.exec("/xx/one/two/rest")!;
    expect([...m] as unknown[]).toEqual(["/xx/one/two", "xx", undefined, undefined, "one", "two"]);
    expect({ ...m.groups } as Record<string, unknown>).toEqual({ a: "xx", b: undefined });
  });

  test("header regexes stay case-insensitive and unanchored on RE2", () => {
    const regex = compileHeaderRegex("(ab+)+c");
    expect(regex instanceof RegExp).toBe(false);
    expect(regex.test("xxABBBC")).toBe(true);
    expect(regex.test(`${"ab".repeat(3000)}x`)).toBe(false);
  });
});
