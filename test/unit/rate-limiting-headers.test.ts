// rate-limiting's headers for one fixed period as the clock moves (a fake clock): RateLimit-Reset counts down
// second by second, is the same within a second, and starts again with the next window; Remaining counts the
// window's requests.
import { afterAll, describe, expect, setSystemTime, test } from "bun:test";
import type { PluginContext } from "../../src/plugins/contract.ts";
import { standaloneEnv } from "../../src/plugins/instances.ts";
import { rateLimiting } from "../../src/plugins/rate-limiting/index.ts";

afterAll(() => setSystemTime());

function limiter(config: object) {
  const parsed = rateLimiting.config.parse(config) as never;
  return rateLimiting.compile!(
    parsed,
    standaloneEnv(() => {}),
    {
      id: "00000000-0000-4000-8000-000000000001",
      route: null,
      service: null,
      consumer: null,
    },
  );
}

/** One request from one client: the headers the plugin set, and whether it answered (refused). */
function request(instance: ReturnType<typeof limiter>): Record<string, string> {
  const set: string[] = [];
  let refused = false;
  const ctx = {
    clientIp: "192.0.2.7",
    consumer: null,
    credential: null,
    setResponseHeaders: (list: string[]) => set.push(...list),
    setResponseHeader: (name: string, value: string) => set.push(name, value),
    respond: () => {
      refused = true;
      return new Response(null, { status: 429 });
    },
  } as unknown as PluginContext;
  instance.access!(ctx);
  const headers: Record<string, string> = {};
  for (let i = 0; i < set.length; i += 2) headers[set[i]!.toLowerCase()] = set[i + 1]!;
  if (refused) headers.refused = "yes";
  return headers;
}

describe("rate-limiting headers for one minute window, second by second", () => {
  test("Reset counts down each second, holds within one, and restarts with the next minute", () => {
    const instance = limiter({ minute: 3, policy: "local" });
    const at = (time: string) => {
      setSystemTime(new Date(time));
      const h = request(instance);
      return [h["ratelimit-reset"], h["x-ratelimit-remaining-minute"], h.refused ?? "no"];
    };
    expect(at("2026-11-30T12:00:10.000Z")).toEqual(["50", "2", "no"]);
    expect(at("2026-11-30T12:00:10.900Z")).toEqual(["50", "1", "no"]);
    expect(at("2026-11-30T12:00:11.000Z")).toEqual(["49", "0", "no"]);
    expect(at("2026-11-30T12:00:59.999Z")).toEqual(["1", "0", "yes"]);
    // A new minute: a new window, a new count.
    expect(at("2026-11-30T12:01:00.000Z")).toEqual(["60", "2", "no"]);
    // The clock going back (another instance's second): the value follows it, nothing stale is reused.
    expect(at("2026-11-30T12:00:30.000Z")).toEqual(["30", "0", "yes"]);
  });
});
