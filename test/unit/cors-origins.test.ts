// cors origin matching (pure logic): Kong's regex cases from its cors spec — a single plain entry is sent as
// configured, regex entries are anchored and match the host (or the whole origin when they contain `:`),
// several plain entries are compared whole after normalisation (default ports dropped).
import { describe, expect, test } from "bun:test";
import { compileOrigins, normalizeOrigin, type OriginVerdict } from "../../src/plugins/cors/origins.ts";

const ORIGINS = [
  "http://evil.test",
  "http://foo.test",
  "http://foo.test.evil.test",
  "http://something.foo.test",
  "http://evilfoo.test",
  "http://foo.test:80",
  "http://foo.test:8000",
  "https://foo.test:8000",
  "http://foo.test:90",
  "http://foobtest",
  "https://bar.test:1234",
];

/** Per configuration: the request origins that are echoed (normalised); every other origin gets none. */
const CASES: { origins: string[]; echoed: string[] }[] = [
  {
    origins: ["foo\\.test"],
    echoed: [
      "http://foo.test",
      "http://foo.test:80",
      "http://foo.test:8000",
      "https://foo.test:8000",
      "http://foo.test:90",
    ],
  },
  {
    origins: ["(.*[./])?foo\\.test"],
    echoed: [
      "http://foo.test",
      "http://something.foo.test",
      "http://foo.test:80",
      "http://foo.test:8000",
      "https://foo.test:8000",
      "http://foo.test:90",
    ],
  },
  { origins: ["(.*[./])?foo\\.test:8000"], echoed: ["http://foo.test:8000", "https://foo.test:8000"] },
  { origins: ["https://(.*[.])?foo\\.test:8000"], echoed: ["https://foo.test:8000"] },
  {
    origins: ["^http://(.*[.])?foo\\.test(:(80|90))?$"],
    echoed: ["http://foo.test", "http://something.foo.test", "http://foo.test:80", "http://foo.test:90"],
  },
  { origins: ["foo.test", "bar.test"], echoed: [] },
  {
    origins: ["http://foo.test", "https://bar.test:1234"],
    echoed: ["http://foo.test", "http://foo.test:80", "https://bar.test:1234"],
  },
  {
    origins: ["bar.test", "foo\\.test"],
    echoed: [
      "http://foo.test",
      "http://foo.test:80",
      "http://foo.test:8000",
      "https://foo.test:8000",
      "http://foo.test:90",
    ],
  },
  {
    origins: ["bar.test", "(.*\\.)?foo\\.test"],
    echoed: [
      "http://foo.test",
      "http://something.foo.test",
      "http://foo.test:80",
      "http://foo.test:8000",
      "https://foo.test:8000",
      "http://foo.test:90",
    ],
  },
  {
    origins: ["bar.test", "(.*[./])?foo\\.test:8000"],
    echoed: ["http://foo.test:8000", "https://foo.test:8000"],
  },
  { origins: ["bar.test", "https://(.*\\.)?foo\\.test:8000"], echoed: ["https://foo.test:8000"] },
];

describe("cors origins (Kong's regex cases)", () => {
  for (const { origins, echoed } of CASES)
    test(JSON.stringify(origins), () => {
      const policy = compileOrigins(origins);
      expect(policy.varies).toBe(true);
      for (const origin of ORIGINS) {
        const verdict = policy.decide(origin);
        const expected: OriginVerdict = echoed.includes(origin)
          ? { kind: "echo", origin: normalizeOrigin(origin).domain }
          : { kind: "none" };
        expect({ origin, verdict }).toEqual({ origin, verdict: expected });
      }
    });

  test("one plain entry is sent as configured, whatever the request's origin", () => {
    for (const entry of ["foo.test", "https://bar.test:1234"]) {
      const policy = compileOrigins([entry]);
      for (const origin of [...ORIGINS, null])
        expect(policy.decide(origin)).toEqual({ kind: "literal", origin: entry });
    }
  });

  test("no origins, an empty list or only * allow any origin and do not vary", () => {
    for (const origins of [null, [], ["*"]]) {
      const policy = compileOrigins(origins);
      expect(policy.varies).toBe(false);
      expect(policy.decide("http://x.test")).toEqual({ kind: "any" });
    }
  });

  test("a * among entries allows any request that has an origin", () => {
    const policy = compileOrigins(["foo.bar", "*"]);
    expect(policy.decide("http://www.example.net")).toEqual({ kind: "any" });
    expect(policy.decide(null)).toEqual({ kind: "none" });
  });

  test("normalisation: default ports dropped, other ports and values without a scheme kept", () => {
    expect(normalizeOrigin("http://a.test:80")).toEqual({ domain: "http://a.test", host: "a.test" });
    expect(normalizeOrigin("https://a.test:443")).toEqual({ domain: "https://a.test", host: "a.test" });
    expect(normalizeOrigin("https://a.test:80")).toEqual({ domain: "https://a.test:80", host: "a.test" });
    expect(normalizeOrigin("http://[::1]:8080")).toEqual({ domain: "http://[::1]:8080", host: "[::1]" });
    expect(normalizeOrigin("null")).toEqual({ domain: "null", host: "null" });
    expect(normalizeOrigin("a.test")).toEqual({ domain: "a.test", host: "a.test" });
  });
});
