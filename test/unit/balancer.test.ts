// Unit: the balancer's pure parts — smooth weighted round-robin, the hash ring, the hash input, and the pool
// that keeps a balancer across snapshots while its upstream is unchanged.
import { describe, expect, test } from "bun:test";
import { BalancerPool } from "../../src/proxy/balancer/balancer-pool.ts";
import { hashInput, hashSpec } from "../../src/proxy/balancer/hash-key.ts";
import { HashRing } from "../../src/proxy/balancer/hash-ring.ts";
import { nextSmooth } from "../../src/proxy/balancer/round-robin.ts";
import { upstreamSchema } from "../../src/schemas/upstreams.ts";

const upstream = (fields: Record<string, unknown>) =>
  ({
    ...upstreamSchema().parse({ name: "u.test", ...fields }),
    id: "00000000-0000-4000-8000-000000000001",
    created_at: 1,
    updated_at: 1,
  }) as never;

describe("smooth weighted round-robin", () => {
  test("5:1:1 is interleaved and exact over a cycle", () => {
    const items = [
      { name: "a", weight: 5, score: 0 },
      { name: "b", weight: 1, score: 0 },
      { name: "c", weight: 1, score: 0 },
    ];
    const seq = Array.from({ length: 14 }, () => nextSmooth(items, () => true)!.name).join("");
    expect(seq).toBe("aabacaaaabacaa");
  });

  test("skips unusable and weight-0 entries; null when none is left", () => {
    const items = [
      { name: "a", weight: 1, score: 0 },
      { name: "b", weight: 0, score: 0 },
      { name: "c", weight: 1, score: 0 },
    ];
    const seq = Array.from({ length: 4 }, () => nextSmooth(items, (i) => i.name !== "c")!.name);
    expect(seq).toEqual(["a", "a", "a", "a"]);
    expect(nextSmooth(items, () => false)).toBeNull();
  });
});

describe("hash ring", () => {
  const entries = () => [
    { key: "10.0.0.1:80", weight: 100 },
    { key: "10.0.0.2:80", weight: 100 },
    { key: "10.0.0.3:80", weight: 200 },
  ];

  test("the same ring whatever the order of the targets (every node agrees)", () => {
    const a = new HashRing(entries(), 1000);
    const b = new HashRing(entries().reverse(), 1000);
    for (let i = 0; i < 200; i++)
      expect(a.pick(`k${i}`, () => true)!.key).toBe(b.pick(`k${i}`, () => true)!.key);
  });

  test("keys spread in proportion to weights", () => {
    const ring = new HashRing(entries(), 10000);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20000; i++) {
      const key = ring.pick(`client-${i}`, () => true)!.key;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    expect(Math.abs(counts["10.0.0.3:80"]! / 20000 - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(counts["10.0.0.1:80"]! / 20000 - 0.25)).toBeLessThan(0.05);
  });

  test("an unusable address moves only its own keys", () => {
    const ring = new HashRing(entries(), 1000);
    const down = "10.0.0.2:80";
    for (let i = 0; i < 500; i++) {
      const before = ring.pick(`k${i}`, () => true)!.key;
      const after = ring.pick(`k${i}`, (e) => e.key !== down)!.key;
      if (before !== down) expect(after).toBe(before);
      else expect(after).not.toBe(down);
    }
    expect(ring.pick("x", () => false)).toBeNull();
  });
});

describe("hash input", () => {
  const inputs = (over: Record<string, unknown> = {}) => ({
    headers: new Headers(),
    clientIp: "10.1.1.1",
    path: "/p",
    query: "",
    captures: null,
    consumerId: null,
    credentialId: null,
    ...over,
  });

  test("header, then the fallback, then the empty string", () => {
    const spec = hashSpec(
      upstream({
        hash_on: "header",
        hash_on_header: "x-a",
        hash_fallback: "query_arg",
        hash_fallback_query_arg: "q",
      }),
    );
    expect(hashInput(spec, inputs({ headers: new Headers({ "x-a": "1" }) })).key).toBe("1");
    expect(hashInput(spec, inputs({ query: "?q=2&q=3" })).key).toBe("2,3");
    expect(hashInput(spec, inputs()).key).toBe("");
  });

  test("consumer, else credential; ip; path; uri_capture by name or number", () => {
    expect(hashInput(hashSpec(upstream({ hash_on: "consumer" })), inputs({ credentialId: "c" })).key).toBe(
      "c",
    );
    expect(hashInput(hashSpec(upstream({ hash_on: "ip" })), inputs()).key).toBe("10.1.1.1");
    expect(hashInput(hashSpec(upstream({ hash_on: "path" })), inputs()).key).toBe("/p");
    const captures = /\/(?<id>\d+)\/(\w+)/.exec("/42/x")!;
    expect(
      hashInput(
        hashSpec(upstream({ hash_on: "uri_capture", hash_on_uri_capture: "id" })),
        inputs({ captures }),
      ).key,
    ).toBe("42");
    expect(
      hashInput(
        hashSpec(upstream({ hash_on: "uri_capture", hash_on_uri_capture: "2" })),
        inputs({ captures }),
      ).key,
    ).toBe("x");
  });

  test("cookie: read when present, generated with Kong's Set-Cookie when absent", () => {
    const spec = hashSpec(upstream({ hash_on: "cookie", hash_on_cookie: "c", hash_on_cookie_path: "/a" }));
    expect(hashInput(spec, inputs({ headers: new Headers({ cookie: "x=1; c=abc" }) }))).toEqual({
      key: "abc",
      setCookie: null,
    });
    const made = hashInput(spec, inputs());
    expect(made.setCookie).toBe(`c=${made.key}; Path=/a; Same-Site=Lax; HttpOnly`);
  });
});

describe("balancer pool", () => {
  const target = (id: string, t: string, weight = 100) =>
    ({ id, target: t, weight, upstream: { id: "u" }, tags: null, created_at: 1, updated_at: 1 }) as never;

  test("keeps the balancer while the upstream and its targets are unchanged", () => {
    const pool = new BalancerPool(null);
    const u = upstream({});
    const first = pool.balancerFor(u, [target("t1", "10.0.0.1:80")]);
    expect(
      pool.balancerFor({ ...(u as object), updated_at: 2 } as never, [target("t1", "10.0.0.1:80")]),
    ).toBe(first);
    expect(pool.balancerFor(u, [target("t1", "10.0.0.1:80", 50)])).not.toBe(first);
    pool.close();
  });

  test("health verdicts reach the peers; a new balancer starts from them", async () => {
    const pool = new BalancerPool(null);
    const u = upstream({});
    const b = pool.balancerFor(u, [target("t1", "10.0.0.1:80"), target("t2", "10.0.0.2:80")]);
    await b.pending;
    pool.applyHealth([
      { upstream: (u as { id: string }).id, address: "10.0.0.1:80@10.0.0.1:80", healthy: false },
    ]);
    for (let i = 0; i < 4; i++) expect(b.pick("", null)!.ip).toBe("10.0.0.2");
    const c = pool.balancerFor(u, [target("t1", "10.0.0.1:80"), target("t3", "10.0.0.3:80")]);
    await c.pending;
    for (let i = 0; i < 4; i++) expect(c.pick("", null)!.ip).toBe("10.0.0.3");
    pool.close();
  });

  test("healthchecks.threshold: below it the whole balancer gives no peer", () => {
    const pool = new BalancerPool(null);
    const u = upstream({ healthchecks: { threshold: 60 } });
    const b = pool.balancerFor(u, [target("t1", "10.0.0.1:80"), target("t2", "10.0.0.2:80")]);
    expect(b.pick("", null)).not.toBeNull();
    pool.applyHealth([
      { upstream: (u as { id: string }).id, address: "10.0.0.1:80@10.0.0.1:80", healthy: false },
    ]);
    // 50 % of the weight is healthy: not above 60 %.
    expect(b.pick("", null)).toBeNull();
    pool.close();
  });
});
