import { describe, expect, test } from "bun:test";
import { normalizePath, normalizeRequestPath } from "../../src/schemas/normalize-path.ts";

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

// Proxied paths: [raw as Bun hands it over, what is matched and forwarded (null: 400)].
const REQUEST_CASES: [string, string | null][] = [
  ["/", "/"],
  ["/echo/plain", "/echo/plain"],
  ["/a/../b", "/b"],
  ["/%61", "/a"],
  ["/a%2Fb", "/a%2Fb"],
  ["/projects/group%2fname", "/projects/group%2Fname"],
  ["/app/page;jsessionid=ABC", "/app/page;jsessionid=ABC"],
  ["/cars;color=red/x", "/cars;color=red/x"],
  ["/a/b;v=1/..", "/a/"],
  ["/a.b/..c/c../...", "/a.b/..c/c../..."],
  ["/a/..x;/b", "/a/..x;/b"],
  ["/caf%C3%A9", "/caf%C3%A9"],
  // Tomcat/Jetty path parameters on a dot segment
  ["/api/..;/admin", null],
  ["/api/..;jsessionid=1/admin", null],
  ["/api/.;/admin", null],
  ["/api/..;", null],
  ["/api/%2e%2e;/admin", null],
  ["/api/%2E;x/admin", null],
  // IIS: encoded (and raw) backslash
  ["/api/..%5Cadmin", null],
  ["/api/..%5cadmin", null],
  ["/api%5Cadmin", null],
  ["/api/%5C", null],
  ["/api\\..\\admin", null],
  // dot segments bounded by an encoded slash
  ["/api/..%2Fadmin", null],
  ["/api/%2E%2E%2fadmin", null],
  ["/api/x%2F..", null],
  ["/api/x%2F.%2Fy", null],
  // invalid or NUL escapes (nginx answers 400 too)
  ["/a%zz", null],
  ["/a%", null],
  ["/a%4", null],
  ["/a%4g", null],
  ["/a%00b", null],
  ["/%2", null],
];

describe("normalizeRequestPath (what the proxy matches and forwards; null is a 400)", () => {
  for (const [raw, expected] of REQUEST_CASES)
    test(`${raw} → ${expected}`, () => expect(normalizeRequestPath(raw)).toBe(expected));
});
