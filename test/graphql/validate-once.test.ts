// GraphQL validates nothing itself: every input goes to the store as REST's body would, the store's errors come
// out with the client's field names, and what GraphQL still checks (the owner argument, page size and tags)
// is checked in REST's order and words.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { camelKeys, gql, gqlData, onlyError, rest } from "./support.ts";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
  await rest(gw, "POST", "/services", { name: "svc", url: "http://127.0.0.1:9" });
  await rest(gw, "POST", "/consumers", { username: "ann smith" });
});

afterAll(() => gw.stop());

describe("the owner of a credential is looked up first, as REST's URL is", () => {
  test("a missing owner with a bad input: code 6 (REST: 404 before the body is read)", async () => {
    const viaRest = await rest(gw, "POST", "/consumers/ghost/key-auth", { ttl: -1 });
    expect(viaRest.status).toBe(404);
    const error = onlyError(
      await gql(gw, 'mutation { addKeyAuth(consumer: "ghost", input: { ttl: -1 }) { id } }'),
    );
    expect(error.extensions).toEqual({ code: 6, name: "not found", fields: { consumer: "ghost" } });
  });

  test("an existing owner with a bad input: the store's code 2, as REST", async () => {
    const viaRest = await rest(gw, "POST", `/consumers/${encodeURIComponent("ann smith")}/key-auth`, {
      ttl: -1,
    });
    const error = onlyError(
      await gql(gw, 'mutation { addKeyAuth(consumer: "ann smith", input: { ttl: -1 }) { id } }'),
    );
    expect(viaRest.status).toBe(400);
    const { message, ...kong } = viaRest.body!;
    expect(error.extensions).toEqual({ ...kong, fields: camelKeys(kong.fields) as Record<string, unknown> });
    expect(error.message).toBe(message as string);
  });

  test("an empty owner is the store's invalid key (code 10), under the consumer's key name", async () => {
    const error = onlyError(await gql(gw, 'mutation { addAcl(consumer: "", input: { group: "g" }) { id } }'));
    expect(error.extensions).toEqual({ code: 10, name: "invalid unique username" });
  });
});

describe("field paths are the client's", () => {
  test("entity fields in camelCase, nested records too; header names are data and stay as written", async () => {
    const body = {
      name: "r",
      paths: ["/r"],
      https_redirect_status_code: 200,
      headers: { x_api_version: ["~*("] },
      sources: [{ ip: "10.0.0.1" }],
    };
    const viaRest = await rest(gw, "POST", "/routes", body);
    expect(viaRest.status).toBe(400);
    const fields = viaRest.body!.fields as Record<string, unknown>;
    expect(Object.keys(fields.headers as object)).toEqual(["x_api_version"]);
    const error = onlyError(
      await gql(
        gw,
        `mutation { addRoute(input: { name: "r", paths: ["/r"], httpsRedirectStatusCode: 200,
          headers: [{ name: "x_api_version", values: ["~*("] }], sources: [{ ip: "10.0.0.1" }] }) { id } }`,
      ),
    );
    const { headers, https_redirect_status_code, ...others } = fields;
    expect(error.extensions?.fields).toEqual({
      ...others,
      headers,
      httpsRedirectStatusCode: https_redirect_status_code,
    });
    expect(error.message).toContain("httpsRedirectStatusCode: expected one of: 426, 301, 302, 307, 308");
  });

  test("a header name given twice adds its values, as a form body would", async () => {
    const { addRoute } = await gqlData<{ addRoute: { headers: { name: string; values: string[] }[] } }>(
      gw,
      `mutation { addRoute(input: { name: "twice", headers: [{ name: "x-v", values: ["1"] }, { name: "x-v", values: ["2"] }] })
        { headers { name values } } }`,
    );
    expect(addRoute.headers).toEqual([{ name: "x-v", values: ["1", "2"] }]);
    expect((await rest(gw, "GET", "/routes/twice")).body!.headers).toEqual({ "x-v": ["1", "2"] });
  });

  test("a plugin's config keeps the plugin's own keys in errors", async () => {
    const error = onlyError(
      await gql(
        gw,
        'mutation { addPlugin(input: { name: "key-auth", config: { key_names: [], run_on_preflight: 1 } }) { id } }',
      ),
    );
    const viaRest = await rest(gw, "POST", "/plugins", {
      name: "key-auth",
      config: { key_names: [], run_on_preflight: 1 },
    });
    expect(error.extensions?.fields).toEqual(viaRest.body!.fields as Record<string, unknown>);
    const fields = error.extensions!.fields as { config: object };
    expect(Object.keys(fields.config).sort()).toEqual(["key_names", "run_on_preflight"]);
  });
});

describe("list arguments are checked as REST checks its query string", () => {
  test("size and tags on a nested page: codes 9 and 11 with REST's messages", async () => {
    const size = onlyError(await gql(gw, "{ services { data { routes(size: 0) { totalCount } } } }"));
    expect(size.extensions).toEqual({ code: 9, name: "invalid size" });
    expect(size.message).toBe((await rest(gw, "GET", "/services/svc/routes?size=0")).body!.message as string);
    const tags = onlyError(
      await gql(gw, '{ consumers { data { keyAuths(tags: ["a,b"]) { totalCount } } } }'),
    );
    expect(tags.extensions).toEqual({ code: 11, name: "invalid options" });
    expect(tags.path).toEqual(["consumers", "data", 0, "keyAuths"]);
  });
});
