// Black-box: rate-limiting's `redis` policy with Bun's Redis client — against the machine's Redis (each test
// on counters of its own, deleted afterwards) for concurrency across two gateways, Kong's keys and lifetimes
// and sync_rate; against private redis-server processes for what needs the server's cooperation: an outage
// with fault_tolerant both ways, AUTH with a password or an ACL user, a database number, TLS, a command that
// hangs, and a server that forgot the script.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RedisClient } from "bun";
import {
  deleteKeys,
  type PrivateRedis,
  redisClient,
  requireRedis,
  sharedRedisConfig,
  startPrivateRedis,
} from "../support/redis.ts";
import { admin, burst, countOf, type PluginWorld, startWorld } from "./helpers.ts";

const ZERO = "00000000-0000-0000-0000-000000000000";
const hasRedis = await requireRedis("rate-limiting redis policy");

/** Status codes of `n` requests sent at once. */

describe.skipIf(!hasRedis)("redis policy on the machine's Redis", () => {
  let one: PluginWorld;
  let two: PluginWorld;
  let client: RedisClient;
  // Counters of the global plugins below are keyed by this header's values: unique to this run.
  const tenant = `t-${crypto.randomUUID()}`;
  const redis = sharedRedisConfig();

  beforeAll(async () => {
    client = await redisClient();
    [one, two] = await Promise.all([startWorld(), startWorld()]);
    // Two independent gateways (two nodes), each with a global plugin limiting by X-Tenant in the same Redis:
    // a global plugin's counters carry Kong's all-zero route and service ids, so both nodes share them.
    for (const w of [one, two]) {
      await w.service("shared", ["/shared"]);
      await admin(w.tg, "POST", "/plugins", {
        name: "rate-limiting",
        config: { hour: 10, day: 1000, limit_by: "header", header_name: "x-tenant", policy: "redis", redis },
      });
      await w.synced();
    }
  });

  afterAll(async () => {
    await deleteKeys(client, `ratelimit:${ZERO}:${ZERO}:${tenant}*`);
    client.close();
    await Promise.all([one.stop(), two.stop()]);
  });

  test("40 concurrent requests through two nodes against hour=10: exactly 10 admitted", async () => {
    const id = `${tenant}-burst`;
    const statuses = await burst(40, (i) =>
      (i % 2 === 0 ? one : two).tg.proxy("/shared", { headers: { "x-tenant": id } }),
    );
    expect(countOf(statuses, 200)).toBe(10);
    expect(countOf(statuses, 429)).toBe(30);
    // Kong's keys and lifetimes: the window start in ms, the period last; EXPIRE = the period's length.
    const now = Date.now();
    const hourKey = `ratelimit:${ZERO}:${ZERO}:${id}:${now - (now % 3_600_000)}:hour`;
    const dayKey = `ratelimit:${ZERO}:${ZERO}:${id}:${now - (now % 86_400_000)}:day`;
    expect(await client.get(hourKey)).toBe("10");
    expect(await client.get(dayKey)).toBe("10");
    const ttl = Number(await client.send("TTL", [hourKey]));
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(Number(await client.send("TTL", [dayKey]))).toBeGreaterThan(86_300);
  });

  test("the headers count down across nodes", async () => {
    const id = `${tenant}-headers`;
    const first = await one.tg.proxy("/shared", { headers: { "x-tenant": id } });
    const second = await two.tg.proxy("/shared", { headers: { "x-tenant": id } });
    expect(first.headers.get("x-ratelimit-remaining-hour")).toBe("9");
    expect(second.headers.get("x-ratelimit-remaining-hour")).toBe("8");
    expect(second.headers.get("x-ratelimit-limit-day")).toBe("1000");
    expect(second.headers.get("ratelimit-remaining")).toBe("8");
  });

  test("sync_rate: counts are decided on the node and pushed to Redis every sync_rate seconds", async () => {
    const w = await startWorld();
    try {
      const { routes } = await w.service("batched", ["/batched"]);
      const plugin = await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
        name: "rate-limiting",
        config: { hour: 5, policy: "redis", redis, sync_rate: 0.2, limit_by: "ip" },
      });
      await w.synced();
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await w.call("/batched")).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const now = Date.now();
      const key = `ratelimit:${routes[0]}:${ZERO}:127.0.0.1:${now - (now % 3_600_000)}:hour`;
      let pushed: string | null = null;
      for (let i = 0; i < 100 && pushed !== "5"; i++) {
        await Bun.sleep(50);
        pushed = await client.get(key);
      }
      expect(pushed).toBe("5");
      expect(Number(await client.send("TTL", [key]))).toBeGreaterThan(3500);
      await deleteKeys(client, `ratelimit:${routes[0]}:*`);
      expect(plugin.config.sync_rate).toBe(0.2);
    } finally {
      await w.stop();
    }
  });
});

describe.skipIf(!hasRedis)("redis policy against a private redis-server", () => {
  let server: PrivateRedis;
  let w: PluginWorld;
  const logs: string[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis();
    w = await startWorld([], { log: (line) => logs.push(line) });
    const redis = { host: "127.0.0.1", port: server.port, timeout: 500 };
    const { routes } = await w.service("private", ["/tolerant", "/strict"]);
    await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
      name: "rate-limiting",
      config: { hour: 100, policy: "redis", redis, fault_tolerant: true },
    });
    await admin(w.tg, "POST", `/routes/${routes[1]}/plugins`, {
      name: "rate-limiting",
      config: { hour: 100, policy: "redis", redis, fault_tolerant: false },
    });
    await w.synced();
  });

  afterAll(async () => {
    await w.stop();
    await server.stop();
  });

  test("Redis down: fault_tolerant proxies without headers, otherwise 500; both recover when it is back", async () => {
    const up = await w.call("/tolerant");
    expect(up.status).toBe(200);
    expect(up.headers.get("x-ratelimit-remaining-hour")).toBe("99");
    expect((await w.call("/strict")).headers.get("x-ratelimit-remaining-hour")).toBe("99");

    await server.kill();
    const tolerant = await w.call("/tolerant");
    expect(tolerant.status).toBe(200);
    expect([...tolerant.headers.keys()].filter((k) => k.includes("ratelimit"))).toEqual([]);
    const strict = await w.refused("/strict", undefined, 500, "An unexpected error occurred");
    expect(strict.headers.get("x-ratelimit-remaining-hour")).toBeNull();
    expect(logs.some((l) => l.includes("[rate-limiting] failed to get usage"))).toBe(true);
    expect(logs.some((l) => l.includes(strict.headers.get("x-portico-request-id")!))).toBe(true);

    await server.restart();
    // A failed connection is tried again after a second at most.
    let back = await w.call("/tolerant");
    for (let i = 0; i < 40 && back.headers.get("x-ratelimit-remaining-hour") === null; i++) {
      await Bun.sleep(100);
      back = await w.call("/tolerant");
    }
    // The restarted server lost its data (no persistence): the count starts again.
    expect(back.headers.get("x-ratelimit-remaining-hour")).toBe("99");
    expect((await w.call("/strict")).status).toBe(200);
  });

  test("a server that forgot the script (SCRIPT FLUSH) gets it again", async () => {
    const direct = await redisClient(`redis://127.0.0.1:${server.port}`);
    await direct.send("SCRIPT", ["FLUSH"]);
    direct.close();
    const before = Number((await w.call("/tolerant")).headers.get("x-ratelimit-remaining-hour"));
    const after = Number((await w.call("/tolerant")).headers.get("x-ratelimit-remaining-hour"));
    expect(after).toBe(before - 1);
  });

  test("a server that stops answering: the check gives up after redis.timeout", async () => {
    const pid = server.pid;
    process.kill(pid, "SIGSTOP");
    try {
      const started = performance.now();
      const answer = await w.call("/tolerant");
      const took = performance.now() - started;
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-ratelimit-remaining-hour")).toBeNull();
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(5000);
      await w.refused("/strict", undefined, 500, "An unexpected error occurred");
    } finally {
      process.kill(pid, "SIGCONT");
    }
  });
});

describe.skipIf(!hasRedis)("redis AUTH, database and TLS", () => {
  let secured: PrivateRedis;
  let tls: PrivateRedis;
  let w: PluginWorld;

  beforeAll(async () => {
    [secured, tls] = await Promise.all([
      startPrivateRedis({ password: "def@ult:pw", user: ["gateway", "g/pass word"] }),
      startPrivateRedis({ tls: true }),
    ]);
    w = await startWorld();
    const paths = ["/password", "/acl-user", "/wrong-password", "/tls", "/tls-verify"];
    const { routes } = await w.service("secured", paths);
    const configs: Record<string, unknown>[] = [
      { host: "127.0.0.1", port: secured.port, password: "def@ult:pw", database: 3 },
      { host: "127.0.0.1", port: secured.port, username: "gateway", password: "g/pass word", database: 5 },
      { host: "127.0.0.1", port: secured.port, password: "nope" },
      { host: "127.0.0.1", port: tls.port, ssl: true, ssl_verify: false },
      // The certificate is self-signed: verifying it must fail.
      { host: "127.0.0.1", port: tls.port, ssl: true, ssl_verify: true, server_name: "redis.test" },
    ];
    for (let i = 0; i < paths.length; i++)
      await admin(w.tg, "POST", `/routes/${routes[i]}/plugins`, {
        name: "rate-limiting",
        config: { hour: 10, limit_by: "ip", policy: "redis", redis: configs[i], fault_tolerant: false },
      });
    await w.synced();
  });

  afterAll(async () => {
    await w.stop();
    await Promise.all([secured.stop(), tls.stop()]);
  });

  test("a password (default user) and a database number: the counter lands in that database", async () => {
    expect((await w.call("/password")).headers.get("x-ratelimit-remaining-hour")).toBe("9");
    const check = await redisClient(
      `redis://:${encodeURIComponent("def@ult:pw")}@127.0.0.1:${secured.port}/3`,
    );
    expect((await check.send("KEYS", ["ratelimit:*"])) as string[]).toHaveLength(1);
    check.close();
  });

  test("an ACL user with its password, in database 5", async () => {
    expect((await w.call("/acl-user")).headers.get("x-ratelimit-remaining-hour")).toBe("9");
    const check = await redisClient(
      `redis://:${encodeURIComponent("def@ult:pw")}@127.0.0.1:${secured.port}/5`,
    );
    expect((await check.send("KEYS", ["ratelimit:*"])) as string[]).toHaveLength(1);
    check.close();
  });

  test("a wrong password fails the check (500 with fault_tolerant off)", async () => {
    await w.refused("/wrong-password", undefined, 500, "An unexpected error occurred");
  });

  test("TLS without verification works; verifying a self-signed certificate fails", async () => {
    expect((await w.call("/tls")).headers.get("x-ratelimit-remaining-hour")).toBe("9");
    await w.refused("/tls-verify", undefined, 500, "An unexpected error occurred");
  });
});
