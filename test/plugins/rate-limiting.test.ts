// Black-box: rate-limiting with the `local` policy through the real gateway — Kong's validation messages, its
// headers (exact values, the most constraining period, Retry-After on the 429), error_code/error_message,
// hide_client_headers, every limit_by, counter scope (global plugins share one counter across routes), the
// headers on a gateway error, counters that survive unrelated configuration changes, and a second window's
// edge on the real clock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Answer, admin, type PluginWorld, startWorld } from "./helpers.ts";

let w: PluginWorld;

beforeAll(async () => {
  w = await startWorld();
});

afterAll(() => w.stop());

const RATE_HEADERS = /^(x-ratelimit-|ratelimit-|retry-after)/;

/** The rate-limit headers of an answer, by lower-case name. */
function rateHeaders(answer: Answer): Record<string, string> {
  return Object.fromEntries([...answer.headers].filter(([name]) => RATE_HEADERS.test(name)));
}

let routeCount = 0;
/** A new service with one route and a rate-limiting plugin on the route; returns the route's path. */
async function limitedRoute(config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const path = `/rl-${++routeCount}`;
  const { routes } = await w.service(`rl-${routeCount}`, [path]);
  await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, { name: "rate-limiting", config, ...extra });
  await w.synced();
  return path;
}

/** Seconds into the current UTC minute. */
const secondOfMinute = () => Math.floor(Date.now() / 1000) % 60;

/** Runs `attempt` until it ran within one minute window (a run that straddles a minute is repeated). */
async function withinOneMinute(attempt: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 3; i++) {
    // Not in the last seconds of a minute: start in a fresh one instead.
    if (secondOfMinute() > 50) await Bun.sleep((61 - secondOfMinute()) * 1000);
    const minute = Math.floor(Date.now() / 60_000);
    await attempt();
    if (Math.floor(Date.now() / 60_000) === minute) return;
  }
  throw new Error("could not run within one minute window");
}

describe("config validation (Kong's messages)", () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    [
      "no limit at all",
      {},
      {
        "@entity": [
          "at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'",
        ],
      },
    ],
    [
      "a larger period with a smaller limit",
      { second: 20, hour: 10 },
      { config: "The limit for hour(10.0) cannot be lower than the limit for second(20.0)" },
    ],
    ["a zero limit", { second: 0 }, { config: { second: "value must be greater than 0" } }],
    ["a limit that is not a number", { minute: "ten" }, { config: { minute: "expected a number" } }],
    [
      "redis without a host",
      { minute: 1, policy: "redis" },
      {
        config: { redis: { host: "required field missing" } },
        "@entity": ["failed conditional validation given value of field 'config.policy'"],
      },
    ],
    [
      "limit_by header without header_name",
      { minute: 1, limit_by: "header" },
      {
        config: { header_name: "required field missing" },
        "@entity": ["failed conditional validation given value of field 'config.limit_by'"],
      },
    ],
    [
      "limit_by path without path",
      { minute: 1, limit_by: "path" },
      {
        config: { path: "required field missing" },
        "@entity": ["failed conditional validation given value of field 'config.limit_by'"],
      },
    ],
    [
      "sync_rate without redis",
      { minute: 1, sync_rate: 1 },
      { config: "sync_rate can only be used with the redis policy" },
    ],
    [
      "sync_rate too small",
      { minute: 1, policy: "redis", redis: { host: "127.0.0.1" }, sync_rate: 0.01 },
      { config: "sync_rate must be greater than 0.02, or -1 to disable" },
    ],
    [
      "an unknown limit_by",
      { minute: 1, limit_by: "country" },
      { config: { limit_by: "expected one of: consumer, credential, ip, service, header, path" } },
    ],
    [
      "an unknown policy",
      { minute: 1, policy: "memcached" },
      { config: { policy: "expected one of: local, cluster, redis" } },
    ],
    [
      "a redis port out of range",
      { minute: 1, redis: { port: 70000 } },
      { config: { redis: { port: "value should be between 0 and 65535" } } },
    ],
    [
      "a zero error_code",
      { minute: 1, error_code: 0 },
      { config: { error_code: "value must be greater than 0" } },
    ],
    [
      "an unknown window_type",
      { minute: 1, window_type: "rolling" },
      { config: { window_type: "expected one of: fixed, sliding" } },
    ],
    ["an unknown field", { minute: 1, burst: 5 }, { config: { burst: "unknown field" } }],
  ];
  for (const [name, config, fields] of cases)
    test(name, async () => {
      const res = await w.tg.admin("/plugins", { method: "POST", body: { name: "rate-limiting", config } });
      const body = await res.json();
      expect({ status: res.status, code: body.code, fields: body.fields }).toEqual({
        status: 400,
        code: 2,
        fields,
      });
    });

  test("defaults are Kong's, and the deprecated redis_* fields land in redis", async () => {
    const plugin = await admin(w.tg, "POST", "/plugins", {
      name: "rate-limiting",
      instance_name: "defaults-check",
      enabled: false,
      config: {
        minute: 10,
        policy: "redis",
        redis_host: "redis.internal",
        redis_port: 6380,
        redis_database: 2,
      },
    });
    expect(plugin.config).toEqual({
      second: null,
      minute: 10,
      hour: null,
      day: null,
      month: null,
      year: null,
      limit_by: "consumer",
      header_name: null,
      path: null,
      policy: "redis",
      fault_tolerant: true,
      redis: {
        host: "redis.internal",
        port: 6380,
        timeout: 2000,
        username: null,
        password: null,
        database: 2,
        ssl: false,
        ssl_verify: false,
        server_name: null,
      },
      hide_client_headers: false,
      error_code: 429,
      error_message: "API rate limit exceeded",
      sync_rate: -1,
      window_type: "fixed",
    });
    await admin(w.tg, "DELETE", "/plugins/defaults-check");
  });
});

describe("headers and the 429", () => {
  test("minute=3: Remaining counts down, the 4th gets 429 with Retry-After = RateLimit-Reset", async () => {
    await withinOneMinute(async () => {
      const path = await limitedRoute({ minute: 3 });
      const seen: Record<string, string>[] = [];
      let answer: Answer | undefined;
      const before = secondOfMinute();
      for (let i = 0; i < 4; i++) {
        answer = await w.call(path);
        seen.push(rateHeaders(answer));
      }
      const after = secondOfMinute();
      const resets = new Set(seen.map((h) => h["ratelimit-reset"]));
      expect(resets.size).toBeLessThanOrEqual(2);
      for (const reset of resets) expect([String(60 - before), String(60 - after)]).toContain(reset!);
      const masked = seen.map(
        (h): Record<string, string | undefined> => ({
          ...h,
          "ratelimit-reset": "R",
          "retry-after": h["retry-after"] && "R",
        }),
      );
      expect(masked).toEqual([
        {
          "x-ratelimit-limit-minute": "3",
          "x-ratelimit-remaining-minute": "2",
          "ratelimit-limit": "3",
          "ratelimit-remaining": "2",
          "ratelimit-reset": "R",
          "retry-after": undefined,
        },
        {
          "x-ratelimit-limit-minute": "3",
          "x-ratelimit-remaining-minute": "1",
          "ratelimit-limit": "3",
          "ratelimit-remaining": "1",
          "ratelimit-reset": "R",
          "retry-after": undefined,
        },
        {
          "x-ratelimit-limit-minute": "3",
          "x-ratelimit-remaining-minute": "0",
          "ratelimit-limit": "3",
          "ratelimit-remaining": "0",
          "ratelimit-reset": "R",
          "retry-after": undefined,
        },
        {
          "x-ratelimit-limit-minute": "3",
          "x-ratelimit-remaining-minute": "0",
          "ratelimit-limit": "3",
          "ratelimit-remaining": "0",
          "ratelimit-reset": "R",
          "retry-after": "R",
        },
      ]);
      expect(seen[3]!["retry-after"]).toBe(seen[3]!["ratelimit-reset"]);
      expect(answer!.status).toBe(429);
      expect(answer!.body).toEqual({
        message: "API rate limit exceeded",
        request_id: answer!.headers.get("x-portico-request-id"),
      });
      expect(answer!.headers.get("content-type")).toBe("application/json; charset=utf-8");
    });
  });

  test("the refused request is not counted, and never reaches the upstream", async () => {
    await withinOneMinute(async () => {
      const path = await limitedRoute({ minute: 2 });
      const before = w.upstream.received.length;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await w.call(path)).status);
      expect(statuses).toEqual([200, 200, 429, 429, 429]);
      expect(w.upstream.received.length - before).toBe(2);
    });
  });

  test("several periods: each gets its pair of headers; RateLimit-* describe the most constraining", async () => {
    await withinOneMinute(async () => {
      const path = await limitedRoute({ minute: 2, hour: 50, day: 100 });
      const first = rateHeaders(await w.call(path));
      expect(first).toMatchObject({
        "x-ratelimit-limit-minute": "2",
        "x-ratelimit-remaining-minute": "1",
        "x-ratelimit-limit-hour": "50",
        "x-ratelimit-remaining-hour": "49",
        "x-ratelimit-limit-day": "100",
        "x-ratelimit-remaining-day": "99",
        "ratelimit-limit": "2",
        "ratelimit-remaining": "1",
      });
      await w.call(path);
      const refused = await w.call(path);
      expect(refused.status).toBe(429);
      // Refused by the minute: only the minute shows one less; the others are not charged.
      expect(rateHeaders(refused)).toMatchObject({
        "x-ratelimit-remaining-minute": "0",
        "x-ratelimit-remaining-hour": "48",
        "x-ratelimit-remaining-day": "98",
        "ratelimit-limit": "2",
        "ratelimit-remaining": "0",
      });
    });
  });

  test("a tie on remaining is described by the longer window (Reset counts to the end of the hour)", async () => {
    const path = await limitedRoute({ second: 5, hour: 5 });
    const headers = rateHeaders(await w.call(path));
    const intoHour = Math.floor(Date.now() / 1000) % 3600;
    expect(headers["ratelimit-limit"]).toBe("5");
    expect(headers["ratelimit-remaining"]).toBe("4");
    expect(Number(headers["ratelimit-reset"])).toBeGreaterThanOrEqual(3600 - intoHour);
    expect(Number(headers["ratelimit-reset"])).toBeLessThanOrEqual(3600 - intoHour + 2);
  });

  test("fractional limits are shown as configured", async () => {
    await withinOneMinute(async () => {
      const p = await limitedRoute({ minute: 2.5 });
      const headers = rateHeaders(await w.call(p));
      expect(headers["x-ratelimit-limit-minute"]).toBe("2.5");
      expect(headers["x-ratelimit-remaining-minute"]).toBe("1.5");
      expect((await w.call(p)).status).toBe(200);
      expect((await w.call(p)).status).toBe(200);
      expect((await w.call(p)).status).toBe(429);
    });
  });

  test("error_code and error_message", async () => {
    const path = await limitedRoute({ hour: 1, error_code: 503, error_message: "Slow down, please" });
    await w.call(path);
    const refused = await w.refused(path, undefined, 503, "Slow down, please");
    expect(refused.headers.get("retry-after")).not.toBeNull();
  });

  test("hide_client_headers: none of the headers, also not on the 429", async () => {
    const path = await limitedRoute({ hour: 1, hide_client_headers: true });
    const ok = await w.call(path);
    expect(ok.status).toBe(200);
    expect(rateHeaders(ok)).toEqual({});
    const refused = await w.call(path);
    expect(refused.status).toBe(429);
    expect(rateHeaders(refused)).toEqual({});
  });

  test("the headers also go out on a gateway error after the check (502, upstream refused)", async () => {
    const svc = await admin(w.tg, "POST", "/services", { name: "rl-dead", url: "http://127.0.0.1:9" });
    const route = await admin(w.tg, "POST", `/services/${svc.id}/routes`, { paths: ["/rl-dead"] });
    await admin(w.tg, "POST", `/routes/${route.id}/plugins`, { name: "rate-limiting", config: { hour: 10 } });
    await w.synced();
    const answer = await w.call("/rl-dead");
    expect(answer.status).toBe(502);
    expect(rateHeaders(answer)).toMatchObject({
      "x-ratelimit-limit-hour": "10",
      "x-ratelimit-remaining-hour": "9",
    });
  });
});

describe("limit_by", () => {
  test("consumer: each consumer has its own counter; without one, the client's address", async () => {
    const path = await limitedRoute({ hour: 1 });
    const routeId = (await admin(w.tg, "GET", `/routes?size=1000`)).data.find(
      (r: { paths: string[] }) => r.paths[0] === path,
    ).id;
    await admin(w.tg, "POST", `/routes/${routeId}/plugins`, {
      name: "key-auth",
      config: { anonymous: "rl-anon" },
    });
    for (const name of ["rl-ann", "rl-bob", "rl-anon"]) await w.consumer({ username: name });
    await admin(w.tg, "POST", "/consumers/rl-ann/key-auth", { key: "rl-ann-key" });
    await admin(w.tg, "POST", "/consumers/rl-bob/key-auth", { key: "rl-bob-key" });
    await w.synced();
    const as = (key: string) => ({ headers: { apikey: key } });
    expect((await w.call(path, as("rl-ann-key"))).status).toBe(200);
    expect((await w.call(path, as("rl-ann-key"))).status).toBe(429);
    expect((await w.call(path, as("rl-bob-key"))).status).toBe(200);
    // Anonymous requests are the anonymous consumer's.
    expect((await w.call(path)).status).toBe(200);
    expect((await w.call(path)).status).toBe(429);
  });

  test("header: each value its own counter; without the header, the client's address", async () => {
    const path = await limitedRoute({ hour: 1, limit_by: "header", header_name: "X-Tenant" });
    expect((await w.call(path, { headers: { "x-tenant": "a" } })).status).toBe(200);
    expect((await w.call(path, { headers: { "x-tenant": "a" } })).status).toBe(429);
    expect((await w.call(path, { headers: { "x-tenant": "b" } })).status).toBe(200);
    expect((await w.call(path)).status).toBe(200);
    expect((await w.call(path)).status).toBe(429);
  });

  test("path: requests on other paths than config.path share the client address's counter", async () => {
    const prefix = await limitedRoute({ hour: 1, limit_by: "path", path: "/special" });
    expect((await w.call(`${prefix}/other`)).status).toBe(200);
    expect((await w.call(`${prefix}/more`)).status).toBe(429);
  });

  test("path: a request whose path is exactly config.path counts on its own", async () => {
    const base = `/rl-exact-${Date.now()}`;
    const { routes } = await w.service(`rl-exact-${Date.now()}`, [base]);
    await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
      name: "rate-limiting",
      config: { hour: 1, limit_by: "path", path: `${base}/vip` },
    });
    await w.synced();
    expect((await w.call(`${base}/vip`)).status).toBe(200);
    expect((await w.call(`${base}/vip`)).status).toBe(429);
    expect((await w.call(`${base}/plain`)).status).toBe(200);
    expect((await w.call(`${base}/plain2`)).status).toBe(429);
  });

  test("ip: by the client's address", async () => {
    const path = await limitedRoute({ hour: 2, limit_by: "ip" });
    expect((await w.call(path)).status).toBe(200);
    expect((await w.call(path)).status).toBe(200);
    expect((await w.call(path)).status).toBe(429);
  });

  test("service, on a global plugin: each service its own counter", async () => {
    const tag = `svc-${Date.now()}`;
    // A global plugin applies everywhere: keep it away from the other tests by giving it its own world.
    const own = await startWorld();
    try {
      const a = await own.service(`${tag}-a`, ["/a"]);
      await own.service(`${tag}-b`, ["/b"]);
      await admin(own.tg, "POST", "/plugins", {
        name: "rate-limiting",
        config: { hour: 1, limit_by: "service" },
      });
      await own.synced();
      expect((await own.call("/a")).status).toBe(200);
      expect((await own.call("/a")).status).toBe(429);
      expect((await own.call("/b")).status).toBe(200);
      expect(a.routes).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });
});

describe("counter scope", () => {
  test("a global plugin keeps one counter per identifier across all routes (Kong's all-zero ids)", async () => {
    const own = await startWorld();
    try {
      await own.service("scope-a", ["/a"]);
      await own.service("scope-b", ["/b"]);
      await admin(own.tg, "POST", "/plugins", { name: "rate-limiting", config: { hour: 3 } });
      await own.synced();
      expect((await own.call("/a")).status).toBe(200);
      expect((await own.call("/b")).status).toBe(200);
      expect((await own.call("/a")).status).toBe(200);
      expect((await own.call("/b")).status).toBe(429);
      expect((await own.call("/a")).status).toBe(429);
    } finally {
      await own.stop();
    }
  });

  test("route-scoped plugins count apart, and counters survive unrelated configuration changes", async () => {
    const a = await limitedRoute({ hour: 2 });
    const b = await limitedRoute({ hour: 2 });
    expect((await w.call(a)).status).toBe(200);
    expect((await w.call(b)).status).toBe(200);
    // Unrelated writes rebuild the snapshot; the plugin instances and their counts stay.
    await w.service(`unrelated-${Date.now()}`, ["/unrelated"]);
    await w.synced();
    expect((await w.call(a)).status).toBe(200);
    expect((await w.call(a)).status).toBe(429);
    expect((await w.call(b)).status).toBe(200);
    expect((await w.call(b)).status).toBe(429);
  });
});

describe("windows on the real clock", () => {
  test("second=2: the third request in a second is refused, the next second admits again", async () => {
    const path = await limitedRoute({ second: 2 });
    for (let attempt = 0; ; attempt++) {
      // Start early in a second so that three requests fit in it; under load, retry when they did not.
      await Bun.sleep(1000 - (Date.now() % 1000) + 5);
      const second = Math.floor(Date.now() / 1000);
      const answers = [await w.call(path), await w.call(path), await w.call(path)];
      if (Math.floor(Date.now() / 1000) !== second) {
        if (attempt < 5) continue;
        throw new Error("three requests never fit in one second");
      }
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      expect(rateHeaders(answers[2]!)).toEqual({
        "x-ratelimit-limit-second": "2",
        "x-ratelimit-remaining-second": "0",
        "ratelimit-limit": "2",
        "ratelimit-remaining": "0",
        "ratelimit-reset": "1",
        "retry-after": "1",
      });
      break;
    }
    await Bun.sleep(1000 - (Date.now() % 1000) + 5);
    expect((await w.call(path)).status).toBe(200);
  });

  test("window_type sliding: refused once full; Retry-After says when a request fits again", async () => {
    await withinOneMinute(async () => {
      const path = await limitedRoute({ minute: 2, window_type: "sliding" });
      expect((await w.call(path)).status).toBe(200);
      expect((await w.call(path)).status).toBe(200);
      const refused = await w.call(path);
      expect(refused.status).toBe(429);
      // Full by this window's own count: no earlier than the end of the minute.
      const retry = Number(refused.headers.get("retry-after"));
      expect(retry).toBeGreaterThanOrEqual(60 - secondOfMinute() - 1);
      expect(retry).toBeLessThanOrEqual(61);
      expect(refused.headers.get("ratelimit-reset")).toBe(String(retry));
    });
  });
});
