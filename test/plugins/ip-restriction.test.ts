// Black-box: ip-restriction through the real gateway — deny before allow, IPv4 and IPv6 ranges, custom status
// and message, the client address as established by --trusted-ips (a trusted balancer's X-Real-IP counts, an
// untrusted client's does not), Kong's validation messages, scope precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, expectPrecedence, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

let w: PluginWorld;
/** A gateway that trusts nobody: X-Real-IP from a client is ignored. */
let untrusting: PluginWorld;

const from = (ip: string) => ({ headers: { "x-real-ip": ip } });
const notAllowed = (ip: string) => `IP address not allowed: ${ip}`;

const ROUTES: [string, Record<string, unknown>][] = [
  ["/deny-local", { deny: ["127.0.0.1", "127.0.0.2"] }],
  ["/allow-other", { allow: ["127.0.0.2"] }],
  ["/custom", { deny: ["127.0.0.0/24"], status: 401, message: "Forbidden" }],
  ["/both", { allow: ["127.0.0.0/24"], deny: ["127.0.0.1"] }],
  ["/v6", { allow: ["2001:db8::/32", "::1"] }],
  ["/everyone", { allow: ["0.0.0.0/0"] }],
];

async function configure(world: PluginWorld): Promise<void> {
  const { routes } = await world.service(
    "ipr",
    ROUTES.map(([path]) => path),
  );
  for (let i = 0; i < ROUTES.length; i++)
    await admin(world.tg, "POST", `/routes/${routes[i]}/plugins`, {
      name: "ip-restriction",
      config: ROUTES[i]![1],
    });
  await world.synced();
}

beforeAll(async () => {
  [w, untrusting] = await Promise.all([startWorld(["--trusted-ips", "127.0.0.1"]), startWorld()]);
  await Promise.all([configure(w), configure(untrusting)]);
});

afterAll(() => Promise.all([w.stop(), untrusting.stop()]));

describe("ip-restriction", () => {
  test("deny: a listed client gets 403 with Kong's message and never reaches the upstream", async () => {
    const before = w.upstream.received.length;
    await w.refused("/deny-local", undefined, 403, notAllowed("127.0.0.1"));
    await w.refused("/deny-local", from("127.0.0.2"), 403, notAllowed("127.0.0.2"));
    expect(w.upstream.received.length).toBe(before);
    await w.pass("/deny-local", from("127.0.0.3"));
  });

  test("allow: only listed clients pass", async () => {
    await w.refused("/allow-other", undefined, 403, notAllowed("127.0.0.1"));
    await w.pass("/allow-other", from("127.0.0.2"));
    await w.refused("/allow-other", from("10.0.0.2"), 403, notAllowed("10.0.0.2"));
  });

  test("custom status and message", async () => {
    await w.refused("/custom", from("127.0.0.9"), 401, "Forbidden");
    await w.pass("/custom", from("127.0.1.9"));
  });

  test("deny is checked before allow", async () => {
    await w.refused("/both", undefined, 403, notAllowed("127.0.0.1"));
    await w.pass("/both", from("127.0.0.5"));
    await w.refused("/both", from("10.1.1.1"), 403, notAllowed("10.1.1.1"));
  });

  test("IPv6 ranges and addresses", async () => {
    await w.pass("/v6", from("2001:db8:0:1::5"));
    await w.pass("/v6", from("::1"));
    await w.refused("/v6", from("2001:db9::1"), 403, notAllowed("2001:db9::1"));
    await w.refused("/v6", undefined, 403, notAllowed("127.0.0.1"));
    await w.pass("/everyone", from("203.0.113.7"));
  });

  test("an untrusted client's X-Real-IP and X-Forwarded-For do not change its address", async () => {
    const spoof = { headers: { "x-real-ip": "127.0.0.2", "x-forwarded-for": "127.0.0.2" } };
    await untrusting.refused("/allow-other", spoof, 403, notAllowed("127.0.0.1"));
    await untrusting.refused("/deny-local", from("127.0.0.3"), 403, notAllowed("127.0.0.1"));
    await untrusting.pass("/everyone", spoof);
  });
});

describe("ip-restriction configuration", () => {
  test("bad configs are refused with Kong's messages", async () => {
    expect(await refusedConfig(w, { name: "ip-restriction", config: { allow: 12 } })).toEqual({
      config: { allow: "expected an array" },
    });
    expect(
      await refusedConfig(w, {
        name: "ip-restriction",
        config: { allow: ["127.0.0.1/32", "127.0.0.2/32", "hello"] },
      }),
    ).toEqual({ config: { allow: [null, null, "invalid ip or cidr range: 'hello'"] } });
    const cidrs = ["0.0.0.0/a", "0.0.0.0/-1", "0.0.0.0/33", "::/129", "::1/a"];
    expect(await refusedConfig(w, { name: "ip-restriction", config: { deny: cidrs } })).toEqual({
      config: { deny: cidrs.map((c) => `invalid ip or cidr range: '${c}'`) },
    });
    const neither = "at least one of these fields must be non-empty: 'config.allow', 'config.deny'";
    expect(await refusedConfig(w, { name: "ip-restriction", config: { allow: [], deny: [] } })).toEqual({
      "@entity": [neither],
    });
    expect(await refusedConfig(w, { name: "ip-restriction" })).toEqual({ "@entity": [neither] });
    expect(
      await refusedConfig(w, {
        name: "ip-restriction",
        config: { deny: ["10.0.0.1"], status: 200, message: "" },
      }),
    ).toEqual({
      config: { status: "value should be between 400 and 599", message: "length must be at least 1" },
    });
  });

  test("defaults as Kong renders them", async () => {
    const created = await admin(w.tg, "POST", "/plugins", {
      name: "ip-restriction",
      enabled: false,
      config: { allow: ["10.0.0.0/8"] },
    });
    expect(created.config).toEqual({ allow: ["10.0.0.0/8"], deny: null, status: null, message: null });
    await admin(w.tg, "DELETE", `/plugins/${created.id}`);
  });

  test("scope precedence: global → service → route → consumer", async () => {
    const scoped = (status: number) => ({ deny: ["0.0.0.0/0", "::/0"], status });
    const STATUS = { 461: "global", 462: "service", 463: "route", 464: "consumer" } as const;
    await expectPrecedence(
      w,
      "ip-restriction",
      { global: scoped(461), service: scoped(462), route: scoped(463), consumer: scoped(464) },
      async (path, headers) => {
        const { status } = await w.call(path, { headers });
        return status === 200 ? "none" : STATUS[status as keyof typeof STATUS];
      },
    );
  });
});
