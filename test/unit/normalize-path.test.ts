import { describe, expect, test } from "bun:test";
import { normalizePath } from "../../src/schemas/normalize-path.ts";

const CASES: [string, string][] = [
  ["/", "/"],
  ["/a/b", "/a/b"],
  ["/a/./b", "/a/b"],
  ["/a/../b", "/b"],
  ["/a/b/..", "/a/"],
  ["/a/b/.", "/a/b/"],
  ["/../a", "/a"],
  ["/..", "/"],
  ["/a//b///c", "/a/b/c"],
  ["/%61%62c", "/abc"],
  ["/%7e%2D%2e%5F", "/~-._"],
  ["/%2e%2e/admin", "/admin"],
  ["/x/%2E%2E/%2e/admin", "/admin"],
  ["/a%2fb", "/a%2Fb"],
  ["/a%2Fb/..", "/"],
  ["/%zz", "/%zz"],
  ["/%", "/%"],
  ["/a%4", "/a%4"],
  ["/caf%C3%A9", "/caf%C3%A9"],
  ["/a.b/c..d/...", "/a.b/c..d/..."],
  ["/.hidden", "/.hidden"],
];

describe("normalizePath (RFC 3986 §6.2.2)", () => {
  for (const [raw, normal] of CASES)
    test(`${raw} → ${normal}`, () => expect(normalizePath(raw)).toBe(normal));
});
