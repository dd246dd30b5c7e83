// Targets over REST exactly as Kong's: only under their upstream, host[:port] normalised (port 8000, IPv6 in
// brackets, expanded), one host:port once per upstream (409), weight 0..65535, float-second timestamps,
// newest-first lists with numeric offsets, the raw /targets/all listing, PUT as an update, and cascading
// deletes (kong spec 08-targets_routes_spec.lua).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { call, METHOD_NOT_ALLOWED, NOT_FOUND, UUID } from "./helpers.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

let counter = 0;
async function upstream(): Promise<{ id: string; name: string }> {
  const reply = await call(tg, "/upstreams", { method: "POST", body: { name: `targets-${++counter}.test` } });
  expect(reply.status).toBe(201);
  return reply.body;
}

async function addTarget(u: string, body: Record<string, unknown>) {
  return call(tg, `/upstreams/${u}/targets`, { method: "POST", body });
}

describe("POST /upstreams/{u}/targets", () => {
  test("a target with Kong's defaults: port 8000, weight 100, float-second timestamps", async () => {
    const u = await upstream();
    const before = Date.now() / 1000;
    const reply = await addTarget(u.name, { target: "a.test" });
    expect(reply.status).toBe(201);
    expect(Object.keys(reply.body)).toEqual([
      "id",
      "created_at",
      "updated_at",
      "upstream",
      "target",
      "weight",
      "tags",
    ]);
    expect(reply.body).toEqual({
      id: expect.stringMatching(UUID),
      created_at: reply.body.created_at,
      updated_at: reply.body.created_at,
      upstream: { id: u.id },
      target: "a.test:8000",
      weight: 100,
      tags: null,
    });
    // Seconds with millisecond precision, like Kong's ngx.now().
    expect(reply.body.created_at).toBeGreaterThanOrEqual(Math.floor(before * 1000) / 1000);
    expect(reply.body.created_at).toBeLessThan(before + 5);
    expect(Math.round(reply.body.created_at * 1000) / 1000).toBe(reply.body.created_at);
  });

  test("host[:port] is normalised: names, IPv4, IPv6 (expanded, bracketed)", async () => {
    const u = await upstream();
    const cases: [string, string][] = [
      ["b.test:80", "b.test:80"],
      ["10.0.0.1", "10.0.0.1:8000"],
      ["10.0.0.2:9000", "10.0.0.2:9000"],
      ["::1", "[0000:0000:0000:0000:0000:0000:0000:0001]:8000"],
      ["[fe80::1]:81", "[fe80:0000:0000:0000:0000:0000:0000:0001]:81"],
      ["custom_localhost", "custom_localhost:8000"],
    ];
    for (const [given, stored] of cases) {
      const reply = await addTarget(u.id, { target: given, weight: 10 });
      expect({ given, status: reply.status, target: reply.body.target }).toEqual({
        given,
        status: 201,
        target: stored,
      });
    }
  });

  test("the same host:port twice in one upstream is a 409, also when written differently", async () => {
    const u = await upstream();
    expect((await addTarget(u.name, { target: "single-target.test:8080", weight: 1 })).status).toBe(201);
    const again = await addTarget(u.name, { target: "single-target.test:8080", weight: 100 });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{target="single-target.test:8080",upstream={id="${u.id}"}}'`,
      fields: { target: "single-target.test:8080", upstream: { id: u.id } },
    });
    expect((await addTarget(u.name, { target: "d.test" })).status).toBe(201);
    expect((await addTarget(u.name, { target: "d.test:8000" })).status).toBe(409);
    // Another upstream may have it.
    expect((await addTarget((await upstream()).name, { target: "single-target.test:8080" })).status).toBe(
      201,
    );
  });

  test("Kong's validation errors", async () => {
    const u = await upstream();
    const violation = (fields: Record<string, string>) => ({
      code: 2,
      name: "schema violation",
      message: `schema violation (${Object.entries(fields)
        .map(([k, v]) => `${k}: ${v}`)
        .join("; ")})`,
      fields,
    });
    const cases: [Record<string, unknown>, Record<string, string>][] = [
      [{ weight: 0 }, { target: "required field missing" }],
      [
        { target: "some invalid host name" },
        { target: "Invalid target; not a valid hostname or ip address" },
      ],
      [{ target: "a.test:65536" }, { target: "Invalid target; not a valid hostname or ip address" }],
      [{ target: "300.1.1.1" }, { target: "Invalid target; not a valid hostname or ip address" }],
      [{ target: "" }, { target: "Invalid target; not a valid hostname or ip address" }],
      [{ target: 5 }, { target: "expected a string" }],
      [{ target: "konghq.test", weight: 65536 }, { weight: "value should be between 0 and 65535" }],
      [{ target: "konghq.test", weight: -1 }, { weight: "value should be between 0 and 65535" }],
      [{ target: "konghq.test", weight: 1.5 }, { weight: "expected an integer" }],
    ];
    for (const [body, fields] of cases) {
      const reply = await addTarget(u.name, body);
      expect({ body, status: reply.status, reply: reply.body }).toEqual({
        body,
        status: 400,
        reply: violation(fields),
      });
    }
    const json = await tg.admin(`/upstreams/${u.name}/targets`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"hello": "world"',
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({ message: "Cannot parse JSON body" });
  });

  test("an unknown upstream is a 404; there are no top-level /targets endpoints", async () => {
    expect((await addTarget("missing.test", { target: "a.test" })).body).toEqual(NOT_FOUND);
    expect((await addTarget("missing.test", { target: "a.test" })).status).toBe(404);
    expect((await call(tg, "/targets")).status).toBe(404);
    expect((await call(tg, "/targets", { method: "POST", body: { target: "a.test" } })).status).toBe(404);
  });

  test("PUT, PATCH and DELETE on the collection are 405", async () => {
    const u = await upstream();
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const reply = await call(tg, `/upstreams/${u.name}/targets`, {
        method,
        body: { target: "konghq.test" },
      });
      expect({ method, status: reply.status, body: reply.body }).toEqual({
        method,
        status: 405,
        body: METHOD_NOT_ALLOWED,
      });
    }
  });

  test("form bodies", async () => {
    const u = await upstream();
    const reply = await call(tg, `/upstreams/${u.name}/targets`, {
      method: "POST",
      body: new URLSearchParams("target=form.test:81&weight=7&tags[]=x"),
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ target: "form.test:81", weight: 7, tags: ["x"] });
  });
});

describe("GET /upstreams/{u}/targets and /targets/all", () => {
  test("lists every target newest first (weight 0 included), with numeric offsets", async () => {
    const u = await upstream();
    const made = [];
    for (const [target, weight] of [
      ["api-1:80", 10],
      ["api-2:80", 0],
      ["api-3:80", 50],
      ["api-4:80", 10],
    ] as const)
      made.push((await addTarget(u.name, { target, weight })).body);
    const all = await call(tg, `/upstreams/${u.name}/targets`);
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ data: [...made].reverse(), next: null });

    const first = await call(tg, `/upstreams/${u.name}/targets?size=3`);
    expect(first.body).toEqual({
      data: [made[3], made[2], made[1]],
      offset: "3",
      next: `/upstreams/${u.name}/targets?offset=3`,
    });
    const second = await call(tg, `/upstreams/${u.name}/targets?size=3&offset=3`);
    expect(second.body).toEqual({ data: [made[0]], next: null });
    expect((await call(tg, `/upstreams/${u.name}/targets?offset=abc`)).body).toMatchObject({ code: 7 });
    expect((await call(tg, `/upstreams/${u.name}/targets?size=0`)).body).toMatchObject({ code: 9 });
  });

  test("an empty upstream lists an empty array; an unknown one is 404", async () => {
    const u = await upstream();
    const reply = await call(tg, `/upstreams/${u.id}/targets`);
    expect(reply.text).toContain('"data":[]');
    expect(reply.body).toEqual({ data: [], next: null });
    expect((await call(tg, "/upstreams/missing.test/targets")).body).toEqual(NOT_FOUND);
    expect((await call(tg, "/upstreams/missing.test/targets/all")).status).toBe(404);
  });

  test("/targets/all lists the raw rows in id order with opaque offsets", async () => {
    const u = await upstream();
    const made = [];
    for (let i = 1; i <= 3; i++)
      made.push((await addTarget(u.name, { target: `all-${i}.test`, weight: i - 1 })).body);
    const byId = [...made].sort((a, b) => (a.id < b.id ? -1 : 1));
    const all = await call(tg, `/upstreams/${u.name}/targets/all`);
    expect(all.body).toEqual({ data: byId, next: null });
    const page = await call(tg, `/upstreams/${u.name}/targets/all?size=2`);
    expect(page.body.data).toEqual(byId.slice(0, 2));
    expect(page.body.next).toBe(
      `/upstreams/${u.name}/targets/all?offset=${encodeURIComponent(page.body.offset)}`,
    );
    const rest = await call(tg, page.body.next);
    expect(rest.body).toEqual({ data: byId.slice(2), next: null });
  });
});

describe("/upstreams/{u}/targets/{target or id}", () => {
  test("GET by normalised host:port or by id; another upstream's target is not found", async () => {
    const u = await upstream();
    const other = await upstream();
    const t = (await addTarget(u.name, { target: "get.test" })).body;
    const elsewhere = (await addTarget(other.name, { target: "else.test" })).body;
    expect((await call(tg, `/upstreams/${u.name}/targets/get.test:8000`)).body).toEqual(t);
    expect((await call(tg, `/upstreams/${u.id}/targets/${t.id}`)).body).toEqual(t);
    for (const path of [
      `/upstreams/${u.name}/targets/${elsewhere.id}`,
      `/upstreams/${u.name}/targets/else.test:8000`,
      `/upstreams/${u.name}/targets/nothing.test:8000`,
      "/upstreams/missing.test/targets/get.test:8000",
    ]) {
      const reply = await call(tg, path);
      expect({ path, status: reply.status, body: reply.body }).toEqual({
        path,
        status: 404,
        body: NOT_FOUND,
      });
    }
  });

  test("PATCH changes the weight and refreshes updated_at; an invalid target quotes the value", async () => {
    const u = await upstream();
    const t = (await addTarget(u.name, { target: "patch.test", weight: 5 })).body;
    await Bun.sleep(5);
    const patched = await call(tg, `/upstreams/${u.name}/targets/patch.test:8000`, {
      method: "PATCH",
      body: { weight: 0 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...t, weight: 0, updated_at: patched.body.updated_at });
    expect(patched.body.updated_at).toBeGreaterThan(t.updated_at);
    const invalid = await call(tg, `/upstreams/${u.name}/targets/${t.id}`, {
      method: "PATCH",
      body: { target: "not a host" },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.fields).toEqual({
      target: "Invalid target ('not a host'); not a valid hostname or ip address",
    });
    const moved = await call(tg, `/upstreams/${u.name}/targets/${t.id}`, {
      method: "PATCH",
      body: { target: "moved.test" },
    });
    expect(moved.body.target).toBe("moved.test:8000");
  });

  test("PUT updates an existing target (like PATCH) and is 404 for a missing one", async () => {
    const u = await upstream();
    const t = (await addTarget(u.name, { target: "put.test:81", weight: 5, tags: ["a"] })).body;
    const put = await call(tg, `/upstreams/${u.name}/targets/put.test:81`, {
      method: "PUT",
      body: { weight: 9 },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: t.id, target: "put.test:81", weight: 9, tags: ["a"] });
    const missing = await call(tg, `/upstreams/${u.name}/targets/none.test:81`, {
      method: "PUT",
      body: { weight: 9 },
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(NOT_FOUND);
  });

  test("a second target moved onto an existing host:port is a 409", async () => {
    const u = await upstream();
    await addTarget(u.name, { target: "one.test" });
    const two = (await addTarget(u.name, { target: "two.test" })).body;
    const clash = await call(tg, `/upstreams/${u.name}/targets/${two.id}`, {
      method: "PATCH",
      body: { target: "one.test" },
    });
    expect(clash.status).toBe(409);
  });

  test("DELETE by host:port or id answers 204; deleting the upstream takes its targets along", async () => {
    const u = await upstream();
    const a = (await addTarget(u.name, { target: "del-a.test" })).body;
    const b = (await addTarget(u.name, { target: "del-b.test" })).body;
    expect(
      (await call(tg, `/upstreams/${u.name}/targets/del-a.test:8000`, { method: "DELETE" })).status,
    ).toBe(204);
    expect((await call(tg, `/upstreams/${u.name}/targets/${a.id}`)).status).toBe(404);
    expect((await call(tg, `/upstreams/${u.name}/targets`)).body.data).toEqual([b]);
    expect((await call(tg, `/upstreams/${u.name}`, { method: "DELETE" })).status).toBe(204);
    // The same name again starts empty.
    const again = await call(tg, "/upstreams", { method: "POST", body: { name: u.name } });
    expect((await call(tg, `/upstreams/${again.body.id}/targets/all`)).body.data).toEqual([]);
  });
});
