import { describe, expect, test } from "bun:test";
import { joinUpstreamPath } from "../../src/proxy/path-join.ts";

// KONG-REFERENCE §4 (spec/fixtures/router_path_handling_tests.lua, v0), plus the dot-segment sanitising.
// [service.path, route path, strip_path, request path, upstream path]
export const PATH_JOIN_CASES: [string | null, string, boolean, string, string][] = [
  [null, "/r", true, "/r", "/"],
  [null, "/r", true, "/r/", "/"],
  [null, "/r", true, "/rx", "/x"],
  [null, "/r", true, "/r/x", "/x"],
  ["/", "/r", true, "/r", "/"],
  ["/", "/r", true, "/r/x", "/x"],
  ["/s", "/r", true, "/r", "/s"],
  ["/s", "/r", true, "/r/", "/s/"],
  ["/s", "/r", true, "/rx", "/s/x"],
  ["/s", "/r", true, "/r/x", "/s/x"],
  ["/s", "/r", false, "/r", "/s/r"],
  ["/s", "/r", false, "/r/", "/s/r/"],
  ["/s", "/r", false, "/rx", "/s/rx"],
  ["/s/", "/r", true, "/r", "/s"],
  ["/s/", "/r", true, "/r/", "/s/"],
  ["/s/", "/r", true, "/rx", "/s/x"],
  ["/s/", "/r", true, "/r/x", "/s/x"],
  ["/s/", "/r", false, "/r", "/s/r"],
  ["/s/", "/r", false, "/r/x", "/s/r/x"],
  ["/", "/r/", true, "/r/", "/"],
  ["/", "/r/", true, "/r/x", "/x"],
  ["/s", "/r/", true, "/r/", "/s/"],
  [null, "/r", false, "/r/x", "/r/x"],
  [null, "/", true, "/", "/"],
  [null, "/", true, "/x/y", "/x/y"],
  ["/s", "/", true, "/", "/s"],
  ["/s", "/", false, "/", "/s"],
  // a leftover that starts with a dot segment never climbs above the service path
  ["/s", "/r", true, "/r..", "/s"],
  ["/s", "/r", true, "/r../admin", "/s/admin"],
  ["/s", "/r", true, "/r./x", "/s/x"],
];

describe("path joining (v0)", () => {
  for (const [servicePath, routePath, strip, request, upstream] of PATH_JOIN_CASES) {
    test(`service ${servicePath} route ${routePath} strip=${strip}: ${request} → ${upstream}`, () => {
      expect(joinUpstreamPath(servicePath ?? "/", routePath, request, strip)).toBe(upstream);
    });
  }
});
