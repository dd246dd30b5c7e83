// Request ids stay 32 lower-case hex characters and unique across the counter's 16-bit boundary.
import { expect, test } from "bun:test";
import { createRequestIds } from "../../src/proxy/request-id.ts";

test("ids are 32 hex characters, unique, and count on past 65,536", () => {
  const next = createRequestIds();
  const ids = Array.from({ length: 70_000 }, next);
  expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids[65_535]!.slice(16)).toBe("000000000000ffff");
  expect(ids[65_536]!.slice(16)).toBe("0000000000010000");
  // Every id of one process shares its random prefix; another process (generator) draws another one.
  expect(ids[69_999]!.slice(0, 16)).toBe(ids[0]!.slice(0, 16));
  expect(createRequestIds()().slice(0, 16)).not.toBe(ids[0]!.slice(0, 16));
});
