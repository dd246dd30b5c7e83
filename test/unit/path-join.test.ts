import { describe, expect, test } from "bun:test";
import { joinUpstreamPath } from "../../src/proxy/path-join.ts";
import { PATH_JOIN_CASES } from "./path-join-cases.ts";

describe("path joining (v0)", () => {
  for (const [servicePath, routePath, strip, request, upstream] of PATH_JOIN_CASES) {
    test(`service ${servicePath} route ${routePath} strip=${strip}: ${request} → ${upstream}`, () => {
      expect(joinUpstreamPath(servicePath ?? "/", routePath, request, strip)).toBe(upstream);
    });
  }
});
