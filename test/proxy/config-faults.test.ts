// A configuration fault never stops the proxy (issue 9): what the admin API accepts the router can build,
// and what still cannot be built (a row written behind the API's back) is left out, reported per entity in
// /status, GraphQL and the log (once), while everything else keeps being served and updated.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { startUpstream, type Upstream } from "./helpers.ts";

let upstream: Upstream;

beforeAll(() => {
  upstream = startUpstream();
});
afterAll(() => upstream.stop());

async function json(res: Response) {
  return { status: res.status, body: await res.json() };
}

describe("the issue's sequence: a bad header regex", () => {
  let tg: TestGateway;
  beforeAll(async () => {
    tg = await startTestGateway();
  });
  afterAll(() => tg.stop());

  test("is refused with Kong's 400; the next route is served and /status is in sync", async () => {
    expect(
      (await tg.admin("/services", { method: "POST", body: { name: "s", url: upstream.url } })).status,
    ).toBe(201);
    const bad = await json(
      await tg.admin("/services/s/routes", {
        method: "POST",
        body: { name: "a", paths: ["/a"], headers: { "x-v": ["~*("] } },
      }),
    );
    expect(bad).toEqual({
      status: 400,
      body: {
        code: 2,
        name: "schema violation",
        message:
          "schema violation (headers.x-v.1: invalid regex: '(' (Invalid regular expression: missing )))",
        fields: { headers: { "x-v": ["invalid regex: '(' (Invalid regular expression: missing ))"] } },
      },
    });
    expect(
      (await tg.admin("/services/s/routes", { method: "POST", body: { name: "good", paths: ["/good"] } }))
        .status,
    ).toBe(201);
    expect(await tg.gateway.synced()).toBe(true);
    const res = await tg.proxy("/good/x");
    expect(res.status).toBe(200);
    expect((await res.json()).target).toBe("/x");
    const status = (await json(await tg.admin("/status"))).body;
    expect(status.configuration_version).toBe(status.proxy_configuration_version);
    expect(status.configuration_faults).toEqual([]);
  });

  test("Kong's named groups `(?P<name>…)` in a path regex are accepted and route", async () => {
    const created = await tg.admin("/services/s/routes", {
      method: "POST",
      body: { name: "named", paths: ["~/items/(?P<item>\\d+)$"] },
    });
    expect(created.status).toBe(201);
    expect(await tg.gateway.synced()).toBe(true);
    expect((await tg.proxy("/items/42")).status).toBe(200);
    expect((await tg.proxy("/items/x")).status).toBe(404);
  });
});

describe("a fault found only when the snapshot is built", () => {
  let tg: TestGateway;
  const lines: string[] = [];
  let badId: string;

  beforeAll(async () => {
    // A database whose route rows were written behind the admin API's back (an older version, a manual edit).
    const dir = mkdtempSync(join(tmpdir(), "portico-faults-"));
    const path = join(dir, "portico.db");
    const seed = await startTestGateway([], path);
    await seed.admin("/services", { method: "POST", body: { name: "s", url: upstream.url } });
    const bad = await (
      await seed.admin("/services/s/routes", { method: "POST", body: { name: "broken", paths: ["~/b"] } })
    ).json();
    badId = bad.id;
    await seed.admin("/services/s/routes", { method: "POST", body: { name: "fine", paths: ["/fine"] } });
    await seed.gateway.stop();
    const db = new Database(path);
    db.run(`UPDATE routes SET paths = '["~/(b"]' WHERE id = ?`, [badId]);
    db.close();
    tg = await startTestGateway([], path, { log: (line) => lines.push(line) });
  });
  afterAll(() => tg.stop());

  test("the faulty route is left out and reported; the others are served", async () => {
    expect(await tg.gateway.synced()).toBe(true);
    expect((await tg.proxy("/fine")).status).toBe(200);
    expect((await tg.proxy("/b")).status).toBe(404);
    const status = (await json(await tg.admin("/status"))).body;
    expect(status.configuration_faults).toEqual([
      { entity: "routes", id: badId, name: "broken", message: "Invalid regular expression: missing )" },
    ]);
    const gql = await json(
      await tg.admin("/graphql", {
        method: "POST",
        body: { query: "{ status { configurationFaults { entity id name message } } }" },
      }),
    );
    expect(gql.body.data.status.configurationFaults).toEqual(status.configuration_faults);
  });

  test("later writes still reach the proxy, and the fault is logged once, not at every rebuild", async () => {
    expect(
      (await tg.admin("/services/s/routes", { method: "POST", body: { name: "later", paths: ["/later"] } }))
        .status,
    ).toBe(201);
    expect(await tg.gateway.synced()).toBe(true);
    expect((await tg.proxy("/later")).status).toBe(200);
    expect(lines.filter((line) => line.includes("configuration fault"))).toEqual([
      "configuration fault: routes broken left out of the proxy: Invalid regular expression: missing )",
    ]);
  });

  test("fixing the route through the admin API clears the fault", async () => {
    const fixed = await tg.admin(`/routes/${badId}`, { method: "PATCH", body: { paths: ["~/b$"] } });
    expect(fixed.status).toBe(200);
    expect(await tg.gateway.synced()).toBe(true);
    expect((await tg.proxy("/b")).status).toBe(200);
    expect((await json(await tg.admin("/status"))).body.configuration_faults).toEqual([]);
  });
});
