// Black-box: services balanced over an upstream's targets (real Bun upstreams on random ports): weighted
// round-robin, consistent hashing (header, cookie, ip), least-connections, retries to another target,
// weight 0, the Host header, DNS names.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { admin, configure, startUpstream, type Upstream } from "./helpers.ts";

let tg: TestGateway;
const servers: Upstream[] = [];

/** An upstream that answers its own name (and the Host it received). */
function named(name: string, delayMs = 0): Upstream {
  const up = startUpstream(async (request) => {
    if (delayMs > 0) await Bun.sleep(delayMs);
    return Response.json({ name, host: request.headers.get("host") });
  });
  servers.push(up);
  return up;
}

function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Sends `count` requests, `parallel` at a time; counts answers by upstream name (or status). */
async function tally(path: string, count: number, init: () => RequestInit = () => ({}), parallel = 20) {
  const counts: Record<string, number> = {};
  for (let sent = 0; sent < count; sent += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - sent) }, async () => {
        const res = await tg.proxy(path, init());
        if (res.status !== 200) return `status ${res.status}: ${await res.text()}`;
        return ((await res.json()) as { name: string }).name;
      }),
    );
    for (const name of batch) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** `clients` clients each sending requests one after another until `count` were sent in all. */
async function continuous(path: string, count: number, clients: number) {
  const counts: Record<string, number> = {};
  let sent = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (sent < count) {
        sent++;
        const res = await tg.proxy(path);
        const name = res.status === 200 ? ((await res.json()) as { name: string }).name : `${res.status}`;
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

async function balanced(
  upstream: Record<string, unknown>,
  targets: { target: string; weight?: number }[],
  path: string,
  service: Record<string, unknown> = {},
) {
  const created = await admin(tg, "POST", "/upstreams", upstream);
  for (const target of targets) await admin(tg, "POST", `/upstreams/${created.id}/targets`, target);
  await configure(tg, { name: `svc-${upstream.name}`, host: upstream.name, port: 1, ...service }, [
    { paths: [path] },
  ]);
  return created;
}

beforeAll(async () => {
  tg = await startTestGateway();
});

afterAll(async () => {
  await tg.stop();
  await Promise.all(servers.map((s) => s.stop()));
});

describe("round-robin", () => {
  test("weights 2:1:1 within ±5 % over 2,000 requests; weight 0 gets nothing", async () => {
    const [a, b, c, d] = [named("a"), named("b"), named("c"), named("d")];
    await balanced(
      { name: "rr.test" },
      [
        { target: `127.0.0.1:${a.port}`, weight: 200 },
        { target: `127.0.0.1:${b.port}`, weight: 100 },
        { target: `127.0.0.1:${c.port}`, weight: 100 },
        { target: `127.0.0.1:${d.port}`, weight: 0 },
      ],
      "/rr",
    );
    const counts = await tally("/rr", 2000);
    expect(Object.keys(counts).sort()).toEqual(["a", "b", "c"]);
    expect(Math.abs(counts.a! / 2000 - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(counts.b! / 2000 - 0.25)).toBeLessThan(0.05);
    expect(Math.abs(counts.c! / 2000 - 0.25)).toBeLessThan(0.05);
  });

  test("Host is the target's host and port; the upstream's host_header replaces it", async () => {
    const a = named("h");
    await balanced({ name: "host.test" }, [{ target: `127.0.0.1:${a.port}` }], "/host");
    const body = (await (await tg.proxy("/host")).json()) as { host: string };
    expect(body.host).toBe(`127.0.0.1:${a.port}`);
    await admin(tg, "PATCH", "/upstreams/host.test", { host_header: "backend.example" });
    await tg.gateway.synced();
    const after = (await (await tg.proxy("/host")).json()) as { host: string };
    expect(after.host).toBe("backend.example");
  });

  test("a dead target: retries move on to a live one, no client sees a failure", async () => {
    const live = named("live");
    await balanced(
      { name: "retry.test" },
      [{ target: `127.0.0.1:${closedPort()}` }, { target: `127.0.0.1:${live.port}` }],
      "/retry",
    );
    expect(await tally("/retry", 100)).toEqual({ live: 100 });
  });

  test("no target at all: 503 failure to get a peer from the ring-balancer", async () => {
    await balanced({ name: "empty.test" }, [], "/empty");
    const res = await tg.proxy("/empty");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { message: string };
    expect(body.message).toBe("failure to get a peer from the ring-balancer");
  });

  test("host names are resolved; one that does not resolve is left out", async () => {
    const a = named("dns");
    await balanced(
      { name: "dns.test" },
      [{ target: `localhost:${a.port}` }, { target: "no-such-host.invalid:80" }],
      "/dns",
    );
    const counts = await tally("/dns", 20);
    expect(counts).toEqual({ dns: 20 });
    const body = (await (await tg.proxy("/dns")).json()) as { host: string };
    expect(body.host).toBe(`localhost:${a.port}`);
  });
});

describe("consistent-hashing", () => {
  let ports: Upstream[];
  beforeAll(async () => {
    ports = [named("h1"), named("h2"), named("h3")];
  });
  const targets = () => ports.map((p) => ({ target: `127.0.0.1:${p.port}` }));

  test("hash_on header: one header value always lands on one target; values spread", async () => {
    await balanced({ name: "hdr.test", hash_on: "header", hash_on_header: "x-user" }, targets(), "/hdr");
    const seen = new Set<string>();
    for (let user = 0; user < 30; user++) {
      const counts = await tally("/hdr", 10, () => ({ headers: { "x-user": `user-${user}` } }), 10);
      expect(Object.keys(counts)).toHaveLength(1);
      seen.add(Object.keys(counts)[0]!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  test("hash_on cookie: a cookie is generated when absent, and sticks", async () => {
    await balanced(
      { name: "cookie.test", hash_on: "cookie", hash_on_cookie: "sticky", hash_on_cookie_path: "/ck" },
      targets(),
      "/ck",
    );
    const first = await tg.proxy("/ck");
    expect(first.status).toBe(200);
    const cookie = first.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^sticky=[0-9a-f-]{36}; Path=\/ck; Same-Site=Lax; HttpOnly$/);
    const value = cookie.split(";")[0]!;
    const { name } = (await first.json()) as { name: string };
    const counts = await tally("/ck", 30, () => ({ headers: { cookie: value } }));
    expect(counts).toEqual({ [name]: 30 });
    const again = await tg.proxy("/ck", { headers: { cookie: value } });
    expect(again.headers.get("set-cookie")).toBeNull();
  });

  test("hash_on ip: every request of one client lands on one target", async () => {
    await balanced({ name: "ip.test", hash_on: "ip" }, targets(), "/ip");
    expect(Object.keys(await tally("/ip", 40))).toHaveLength(1);
  });

  test("hash_on query_arg with fallback to header", async () => {
    await balanced(
      {
        name: "qa.test",
        hash_on: "query_arg",
        hash_on_query_arg: "u",
        hash_fallback: "header",
        hash_fallback_header: "x-u",
      },
      targets(),
      "/qa",
    );
    for (let u = 0; u < 5; u++) {
      expect(Object.keys(await tally(`/qa?u=${u}`, 10))).toHaveLength(1);
      expect(Object.keys(await tally("/qa", 10, () => ({ headers: { "x-u": `v${u}` } })))).toHaveLength(1);
    }
  });
});

describe("least-connections", () => {
  test("a slow target gets fewer requests than a fast one", async () => {
    const slow = named("slow", 300);
    const fast = named("fast", 5);
    await balanced(
      { name: "lc.test", algorithm: "least-connections" },
      [{ target: `127.0.0.1:${slow.port}` }, { target: `127.0.0.1:${fast.port}` }],
      "/lc",
    );
    const counts = await continuous("/lc", 200, 4);
    expect(counts.slow! + counts.fast!).toBe(200);
    expect(counts.fast!).toBeGreaterThan(counts.slow! * 2);
  });
});
