import { describe, expect, test } from "bun:test";
import { isValidHost } from "../../src/proxy/headers.ts";

const VALID = [
  "h",
  "api.example.com",
  "API.Example.COM:8000",
  "127.0.0.1:80",
  "[::1]:8000",
  "[fe80::1%25eth0]",
  "xn--caf-dma.test",
  "a_b-c~d",
];
const INVALID = [
  "",
  "a b",
  "a\tb",
  " a",
  "a\u007fb",
  "a\u0001b",
  "a/b",
  "a\\b",
  "a@b",
  "a?b",
  "a#b",
  "a, b",
  "a,b",
  "caf\u00e9.test",
  "a\u0000b",
];

describe("isValidHost", () => {
  for (const host of VALID)
    test(`${JSON.stringify(host)} is accepted`, () => expect(isValidHost(host)).toBe(true));
  for (const host of INVALID)
    test(`${JSON.stringify(host)} is refused`, () => expect(isValidHost(host)).toBe(false));
});
