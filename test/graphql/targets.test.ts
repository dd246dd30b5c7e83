// Targets through GraphQL next to REST: the same rows either way, the upstream as the parent argument, and
// the one place where the two APIs' verbs differ on purpose — Kong's PUT on a target only updates an existing
// one (like PATCH), while GraphQL's upsertTarget creates a missing one or replaces an existing one whole.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { gql, gqlData, onlyError, rest } from "./support.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  expect((await rest(gw, "POST", "/upstreams", { name: "pool.test" })).status).toBe(201);
});
afterAll(() => gw.stop());

const FIELDS = "id target weight tags upstream { name }";
type Target = {
  id: string;
  target: string;
  weight: number;
  tags: string[] | null;
  upstream: { name: string };
};

describe("targets through GraphQL", () => {
  test("addTarget creates what REST lists, with Kong's normalisation and defaults", async () => {
    const { addTarget } = await gqlData<{ addTarget: Target }>(
      gw,
      `mutation { addTarget(upstream: "pool.test", input: { target: "10.0.0.1" }) { ${FIELDS} } }`,
    );
    expect(addTarget).toMatchObject({
      target: "10.0.0.1:8000",
      weight: 100,
      upstream: { name: "pool.test" },
    });
    const listed = await rest(gw, "GET", "/upstreams/pool.test/targets");
    expect((listed.body!.data as { id: string }[]).map((t) => t.id)).toContain(addTarget.id);
  });

  test("the same host:port twice is Kong's unique violation (code 5), in GraphQL too", async () => {
    const result = await gql(
      gw,
      `mutation { addTarget(upstream: "pool.test", input: { target: "10.0.0.1:8000" }) { id } }`,
    );
    expect(onlyError(result).extensions?.code).toBe(5);
  });

  test("upsertTarget creates a missing target, where REST's PUT answers 404", async () => {
    expect((await rest(gw, "PUT", "/upstreams/pool.test/targets/10.0.0.2:80", { weight: 5 })).status).toBe(
      404,
    );
    const { upsertTarget } = await gqlData<{ upsertTarget: Target }>(
      gw,
      `mutation { upsertTarget(upstream: "pool.test", idOrKey: "10.0.0.2:80", input: { target: "10.0.0.2:80", weight: 5 }) { ${FIELDS} } }`,
    );
    expect(upsertTarget).toMatchObject({ target: "10.0.0.2:80", weight: 5 });
    expect((await rest(gw, "GET", `/upstreams/pool.test/targets/${upsertTarget.id}`)).body).toMatchObject({
      target: "10.0.0.2:80",
      weight: 5,
    });
  });

  test("upsertTarget replaces whole (omitted weight back to 100); REST's PUT keeps what it does not name", async () => {
    const tagged = await rest(gw, "PUT", "/upstreams/pool.test/targets/10.0.0.2:80", { tags: ["a"] });
    expect(tagged.status).toBe(200);
    expect(tagged.body).toMatchObject({ weight: 5, tags: ["a"] });
    const { upsertTarget } = await gqlData<{ upsertTarget: Target }>(
      gw,
      `mutation { upsertTarget(upstream: "pool.test", idOrKey: "10.0.0.2:80", input: { target: "10.0.0.2:80" }) { ${FIELDS} } }`,
    );
    expect(upsertTarget).toMatchObject({ id: tagged.body!.id, weight: 100, tags: null });
  });

  test("a target named outside its upstream is not found (code 6)", async () => {
    expect((await rest(gw, "POST", "/upstreams", { name: "other.test" })).status).toBe(201);
    const result = await gql(
      gw,
      `mutation { upsertTarget(upstream: "other.test", idOrKey: "10.0.0.1:8000", input: { target: "10.0.0.1:8000" }) { id } }`,
    );
    expect(onlyError(result).extensions?.code).toBe(6);
  });
});
