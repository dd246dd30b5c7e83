// Black-box: acl after key-auth, configured through the admin REST API — allow and deny lists, Kong's 401
// without a consumer and 403 otherwise, X-Consumer-Groups and hide_groups_header, group changes live.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, type PluginWorld, startWorld } from "./helpers.ts";

let w: PluginWorld;
const FORBIDDEN = "You cannot consume this service";
const as = (key: string, extra: Record<string, string> = {}) => ({ headers: { apikey: key, ...extra } });
const groupsOf = (header: string | undefined) => header?.split(", ").sort();

beforeAll(async () => {
  w = await startWorld();
  // dave: gold + silver; erin: bronze; frank: no group; guest (anonymous): guests.
  for (const [name, groups] of [
    ["dave", ["gold", "silver"]],
    ["erin", ["bronze"]],
    ["frank", []],
    ["guest", ["guests"]],
  ] as const) {
    await w.consumer({ username: name });
    await admin(w.tg, "POST", `/consumers/${name}/key-auth`, { key: `${name}-key` });
    for (const group of groups) await admin(w.tg, "POST", `/consumers/${name}/acls`, { group });
  }
  const routes: [string, Record<string, unknown> | null, Record<string, unknown> | null][] = [
    ["/allow", {}, { allow: ["gold"] }],
    ["/deny", {}, { deny: ["bronze"] }],
    ["/hide", {}, { allow: ["gold"], hide_groups_header: true }],
    ["/alone", null, { allow: ["gold"] }],
    ["/anon", { anonymous: "guest" }, { allow: ["gold"] }],
    ["/anon-ok", { anonymous: "guest" }, { allow: ["gold", "guests"] }],
  ];
  const { routes: ids } = await w.service(
    "acl",
    routes.map(([path]) => path),
  );
  for (let i = 0; i < routes.length; i++) {
    const [, keyAuth, acl] = routes[i]!;
    if (keyAuth)
      await admin(w.tg, "POST", `/routes/${ids[i]}/plugins`, { name: "key-auth", config: keyAuth });
    await admin(w.tg, "POST", `/routes/${ids[i]}/plugins`, { name: "acl", config: acl });
  }
  await w.synced();
});

afterAll(() => w.stop());

describe("acl allow and deny", () => {
  test("allow: a member passes with X-Consumer-Groups listing all its groups", async () => {
    const echo = await w.pass("/allow", as("dave-key"));
    expect(groupsOf(echo.headers["x-consumer-groups"])).toEqual(["gold", "silver"]);
    expect(echo.headers["x-consumer-username"]).toBe("dave");
  });

  test("allow: a consumer outside the list, or in no group, gets 403", async () => {
    const before = w.upstream.received.length;
    await w.refused("/allow", as("erin-key"), 403, FORBIDDEN);
    await w.refused("/allow", as("frank-key"), 403, FORBIDDEN);
    expect(w.upstream.received.length).toBe(before);
  });

  test("deny: a listed group gets 403; others (and the groupless) pass", async () => {
    await w.refused("/deny", as("erin-key"), 403, FORBIDDEN);
    expect(groupsOf((await w.pass("/deny", as("dave-key"))).headers["x-consumer-groups"])).toEqual([
      "gold",
      "silver",
    ]);
    const frank = await w.pass("/deny", as("frank-key"));
    expect(frank.headers["x-consumer-groups"]).toBeUndefined();
    expect(frank.headers["x-consumer-username"]).toBe("frank");
  });

  test("authentication failures come first: acl never sees an unauthenticated request", async () => {
    await w.refused("/allow", undefined, 401, "No API key found in request");
  });

  test("acl without any authentication plugin: 401 Unauthorized", async () => {
    await w.refused("/alone", undefined, 401, "Unauthorized");
    await w.refused("/alone", as("dave-key"), 401, "Unauthorized");
  });

  test("the anonymous consumer is judged by its own groups", async () => {
    await w.refused("/anon", undefined, 403, FORBIDDEN);
    const echo = await w.pass("/anon-ok");
    expect(echo.headers["x-consumer-groups"]).toBe("guests");
    expect(echo.headers["x-anonymous-consumer"]).toBe("true");
    expect(groupsOf((await w.pass("/anon", as("dave-key"))).headers["x-consumer-groups"])).toEqual([
      "gold",
      "silver",
    ]);
  });
});

describe("acl headers", () => {
  test("a client's own X-Consumer-Groups is replaced by the real groups", async () => {
    const echo = await w.pass("/allow", as("dave-key", { "x-consumer-groups": "admin" }));
    expect(groupsOf(echo.headers["x-consumer-groups"])).toEqual(["gold", "silver"]);
  });

  test("hide_groups_header: no X-Consumer-Groups upstream (a client's copy is dropped too)", async () => {
    const echo = await w.pass("/hide", as("dave-key", { "x-consumer-groups": "admin" }));
    expect(echo.headers["x-consumer-groups"]).toBeUndefined();
    expect(echo.headers["x-consumer-username"]).toBe("dave");
    await w.refused("/hide", as("erin-key"), 403, FORBIDDEN);
  });
});

describe("acl group changes", () => {
  test("adding and removing a group takes effect with the next snapshot", async () => {
    await w.refused("/allow", as("erin-key"), 403, FORBIDDEN);
    await admin(w.tg, "POST", "/consumers/erin/acls", { group: "gold" });
    await w.synced();
    expect(groupsOf((await w.pass("/allow", as("erin-key"))).headers["x-consumer-groups"])).toEqual([
      "bronze",
      "gold",
    ]);
    // Two consumers now share the group name: the nested URL names each one's own row.
    expect((await admin(w.tg, "GET", "/consumers/erin/acls/gold")).consumer.id).not.toBe(
      (await admin(w.tg, "GET", "/consumers/dave/acls/gold")).consumer.id,
    );
    await admin(w.tg, "DELETE", "/consumers/erin/acls/gold");
    await w.synced();
    await w.refused("/allow", as("erin-key"), 403, FORBIDDEN);
    await w.pass("/allow", as("dave-key"));
  });

  test("acl credentials: nested and top-level reads, 404 for another consumer's group, duplicate 409", async () => {
    const list = await admin(w.tg, "GET", "/consumers/dave/acls");
    expect(list.data.map((a: { group: string }) => a.group).sort()).toEqual(["gold", "silver"]);
    const gold = await admin(w.tg, "GET", "/consumers/dave/acls/gold");
    expect(gold.group).toBe("gold");
    expect((await admin(w.tg, "GET", `/acls/${gold.id}`)).id).toBe(gold.id);
    expect((await admin(w.tg, "GET", `/acls/${gold.id}/consumer`)).username).toBe("dave");
    const top = await admin(w.tg, "GET", "/acls");
    expect(top.data.length).toBe(4);
    const other = await w.tg.admin("/consumers/erin/acls/silver");
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ message: "Not found" });
    const dup = await w.tg.admin("/consumers/dave/acls", { method: "POST", body: { group: "gold" } });
    expect(dup.status).toBe(409);
    expect((await dup.json()).code).toBe(5);
  });
});
