// An ACL group is unique only under its consumer: outside it, only an id can name an ACL row.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
  for (const username of ["ann", "bob"]) {
    expect((await tg.admin("/consumers", { method: "POST", body: { username } })).status).toBe(201);
    expect(
      (await tg.admin(`/consumers/${username}/acls`, { method: "POST", body: { group: "ops" } })).status,
    ).toBe(201);
  }
});
afterAll(() => tg.stop());

test("GET /acls/{group} is refused as ambiguous; /consumers/{c}/acls/{group} and /acls/{id} work", async () => {
  const bare = await tg.admin("/acls/ops");
  expect(bare.status).toBe(400);
  expect(await bare.json()).toEqual({
    code: 1,
    name: "invalid primary key",
    message: "'ops' is not a valid id: acls are named by group only under their consumer",
    fields: { id: "expected a valid UUID" },
  });
  const nested = await tg.admin("/consumers/bob/acls/ops");
  expect(nested.status).toBe(200);
  const acl = (await nested.json()) as { id: string; group: string };
  expect(acl.group).toBe("ops");
  const byId = await tg.admin(`/acls/${acl.id}`);
  expect(((await byId.json()) as { id: string }).id).toBe(acl.id);
  expect((await tg.admin("/acls/ops", { method: "DELETE" })).status).toBe(400);
  expect(((await tg.admin("/acls?size=10").then((r) => r.json())) as { data: unknown[] }).data).toHaveLength(
    2,
  );
});
