// Every query over HTTP: lists with Kong's paging and tag filters, single lookups, links, status.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { TEST_STORE } from "../support/postgres.ts";
import { gql, gqlData, onlyError, ROUTE_FIELDS, rest, SERVICE_FIELDS } from "./support.ts";

let gw: TestGateway;

type Page<T> = { data: T[]; offset: string | null; hasNextPage: boolean; totalCount: number };
type Named = { id: string; name: string | null };

beforeAll(async () => {
  gw = await startTestGateway();
  for (let i = 1; i <= 7; i++) {
    const tags = [i % 2 === 0 ? "even" : "odd", ...(i <= 3 ? ["small"] : [])];
    const created = await rest(gw, "POST", "/services", {
      name: `svc-${i}`,
      url: `http://127.0.0.1:9/s${i}`,
      tags,
    });
    expect(created.status).toBe(201);
  }
  for (const [name, service, paths] of [
    ["r-a", "svc-1", ["/a"]],
    ["r-b", "svc-1", ["/b"]],
    ["r-c", "svc-2", ["/c"]],
  ] as const) {
    const created = await rest(gw, "POST", "/routes", {
      name,
      paths,
      service: { name: service },
      tags: [name],
    });
    expect(created.status).toBe(201);
  }
});

afterAll(() => gw.stop());

describe("services", () => {
  test("lists every field of every service, in the order and shape REST gives", async () => {
    const { services } = await gqlData<{ services: Page<Record<string, unknown>> }>(
      gw,
      `{ services { data { ${SERVICE_FIELDS} } offset hasNextPage totalCount } }`,
    );
    const listed = (await rest(gw, "GET", "/services")).body as { data: Record<string, unknown>[] };
    expect(services.totalCount).toBe(7);
    expect(services.hasNextPage).toBe(false);
    expect(services.offset).toBeNull();
    expect(services.data.map((s) => s.id)).toEqual(listed.data.map((s) => s.id));
    const first = services.data[0]!;
    const wire = listed.data[0]!;
    expect(first).toEqual({
      id: wire.id,
      name: wire.name,
      createdAt: wire.created_at,
      updatedAt: wire.updated_at,
      retries: 5,
      protocol: "http",
      host: "127.0.0.1",
      port: 9,
      path: wire.path,
      connectTimeout: 60000,
      writeTimeout: 60000,
      readTimeout: 60000,
      tags: wire.tags,
      clientCertificate: null,
      tlsVerify: null,
      tlsVerifyDepth: null,
      caCertificates: null,
      enabled: true,
    });
  });

  test("pages with size and offset until hasNextPage is false, like REST's offset", async () => {
    const seen: string[] = [];
    let offset: string | null = null;
    let pages = 0;
    do {
      const result: { services: Page<Named> } = await gqlData(
        gw,
        "query($offset: String) { services(size: 3, offset: $offset) { data { id name } offset hasNextPage totalCount } }",
        { offset },
      );
      pages++;
      expect(result.services.totalCount).toBe(7);
      expect(result.services.hasNextPage).toBe(result.services.offset !== null);
      seen.push(...result.services.data.map((s) => s.id));
      offset = result.services.offset;
    } while (offset !== null);
    expect(pages).toBe(3);
    const listed = (await rest(gw, "GET", "/services")).body as { data: Named[] };
    expect(seen).toEqual(listed.data.map((s) => s.id));
    // The cursor is REST's: the same offset gives the same next page over both APIs.
    const first = await gqlData<{ services: Page<Named> }>(gw, "{ services(size: 3) { offset } }");
    const viaRest = await rest(
      gw,
      "GET",
      `/services?size=3&offset=${encodeURIComponent(first.services.offset!)}`,
    );
    const viaGraphql = await gqlData<{ services: Page<Named> }>(
      gw,
      "query($o: String) { services(size: 3, offset: $o) { data { id } } }",
      { o: first.services.offset },
    );
    expect(viaGraphql.services.data.map((s) => s.id)).toEqual(
      (viaRest.body!.data as Named[]).map((s) => s.id),
    );
  });

  test("filters by tags: AND by default, OR with tagsMode, with totalCount of the filtered set", async () => {
    const and = await gqlData<{ services: Page<Named> }>(
      gw,
      '{ services(tags: ["odd", "small"]) { data { name } totalCount } }',
    );
    expect(and.services.data.map((s) => s.name).sort()).toEqual(["svc-1", "svc-3"]);
    expect(and.services.totalCount).toBe(2);
    const or = await gqlData<{ services: Page<Named> }>(
      gw,
      '{ services(tags: ["even", "small"], tagsMode: OR, size: 2) { data { name } totalCount hasNextPage } }',
    );
    expect(or.services.totalCount).toBe(5);
    expect(or.services.data).toHaveLength(2);
    expect(or.services.hasNextPage).toBe(true);
    const viaRest = await rest(gw, "GET", "/services?tags=even/small");
    expect((viaRest.body!.data as Named[]).length).toBe(5);
  });

  test("service(idOrName) finds by name and by id, and is null when there is none", async () => {
    const byName = await gqlData<{ service: Named }>(gw, '{ service(idOrName: "svc-2") { id name } }');
    expect(byName.service.name).toBe("svc-2");
    const byId = await gqlData<{ service: Named }>(
      gw,
      "query($id: String!) { service(idOrName: $id) { name } }",
      {
        id: byName.service.id.toUpperCase(),
      },
    );
    expect(byId.service.name).toBe("svc-2");
    const missing = await gqlData<{ service: null }>(gw, '{ service(idOrName: "nope") { id } }');
    expect(missing.service).toBeNull();
  });

  test("Service.routes lists the service's routes with their own paging", async () => {
    const { service } = await gqlData<{ service: { routes: Page<Named> } }>(
      gw,
      '{ service(idOrName: "svc-1") { routes(size: 1) { data { name } hasNextPage totalCount } } }',
    );
    expect(service.routes.totalCount).toBe(2);
    expect(service.routes.data).toHaveLength(1);
    expect(service.routes.hasNextPage).toBe(true);
    const empty = await gqlData<{ service: { routes: Page<Named> } }>(
      gw,
      '{ service(idOrName: "svc-7") { routes { data { name } totalCount hasNextPage offset } } }',
    );
    expect(empty.service.routes).toEqual({ data: [], totalCount: 0, hasNextPage: false, offset: null });
  });

  test("Service.url renders the service's target as one URL", async () => {
    const { service } = await gqlData<{ service: { url: string } }>(
      gw,
      '{ service(idOrName: "svc-3") { url } }',
    );
    expect(service.url).toBe("http://127.0.0.1:9/s3");
  });
});

describe("routes", () => {
  test("lists every field of every route, with the service link resolved", async () => {
    const { routes } = await gqlData<{ routes: Page<Record<string, unknown>> }>(
      gw,
      `{ routes { data { ${ROUTE_FIELDS} service { name } } totalCount } }`,
    );
    expect(routes.totalCount).toBe(3);
    const route = routes.data.find((r) => r.name === "r-a")!;
    expect(route).toMatchObject({
      protocols: ["http", "https"],
      methods: null,
      hosts: null,
      paths: ["/a"],
      headers: null,
      snis: null,
      httpsRedirectStatusCode: 426,
      regexPriority: 0,
      stripPath: true,
      pathHandling: "v0",
      preserveHost: false,
      requestBuffering: true,
      responseBuffering: true,
      tags: ["r-a"],
      service: { name: "svc-1" },
    });
  });

  test("route(idOrName) by name and id; null when missing; tags filter routes", async () => {
    const byName = await gqlData<{ route: Named & { service: { name: string } } }>(
      gw,
      '{ route(idOrName: "r-c") { id name service { name } } }',
    );
    expect(byName.route.service.name).toBe("svc-2");
    const byId = await gqlData<{ route: Named }>(
      gw,
      "query($id: String!) { route(idOrName: $id) { name } }",
      {
        id: byName.route.id,
      },
    );
    expect(byId.route.name).toBe("r-c");
    expect((await gqlData<{ route: null }>(gw, '{ route(idOrName: "zzz") { id } }')).route).toBeNull();
    const tagged = await gqlData<{ routes: Page<Named> }>(
      gw,
      '{ routes(tags: ["r-b"]) { data { name } totalCount } }',
    );
    expect(tagged.routes).toEqual({ data: [{ name: "r-b" }], totalCount: 1 } as never);
  });
});

describe("status", () => {
  test("reports the node, its listeners, database and configuration versions", async () => {
    const { status } = await gqlData<{ status: Record<string, unknown> }>(
      gw,
      `{ status { version hostname nodeId startedAt configVersion proxyConfigVersion
         database { dialect location reachable } listeners { proxy admin }
         traffic { active { proxy admin } total { proxy admin } } } }`,
    );
    const root = (await rest(gw, "GET", "/")).body!;
    expect(status.version).toBe(root.version as string);
    expect(status.database).toEqual({ dialect: TEST_STORE, location: gw.databasePath, reachable: true });
    expect(status.listeners).toEqual({ proxy: gw.proxyUrl, admin: gw.adminUrl });
    expect(status.configVersion).toBe(10);
    await gw.gateway.synced();
    const again = await gqlData<{ status: { proxyConfigVersion: number } }>(
      gw,
      "{ status { proxyConfigVersion } }",
    );
    expect(again.status.proxyConfigVersion).toBe(10);
    expect((status.traffic as { total: { admin: number } }).total.admin).toBeGreaterThan(10);
  });
});

describe("errors in queries", () => {
  test("bad paging arguments carry Kong's codes, like REST's query string", async () => {
    const size = onlyError(await gql(gw, "{ services(size: 1001) { totalCount } }"));
    expect(size.extensions).toMatchObject({ code: 9, name: "invalid size" });
    expect(size.message).toBe((await rest(gw, "GET", "/services?size=1001")).body!.message as string);
    const offset = onlyError(await gql(gw, '{ routes(offset: "!!") { totalCount } }'));
    expect(offset.extensions).toMatchObject({ code: 7, name: "invalid offset" });
    expect(offset.message).toBe((await rest(gw, "GET", "/routes?offset=!!")).body!.message as string);
    const tags = onlyError(
      await gql(gw, '{ services(tags: ["a", "b", "c", "d", "e", "f"]) { totalCount } }'),
    );
    expect(tags.extensions).toMatchObject({ code: 11, name: "invalid options" });
    expect(tags.message).toBe((await rest(gw, "GET", "/services?tags=a,b,c,d,e,f")).body!.message as string);
    const badTag = onlyError(await gql(gw, '{ services(tags: ["a/b"]) { totalCount } }'));
    expect(badTag.extensions?.code).toBe(11);
  });

  test("a malformed name is code 10 (REST: 400 'invalid unique name'), not a silent null", async () => {
    const result = await gql(gw, '{ service(idOrName: "no spaces") { id } }');
    const error = onlyError(result);
    const viaRest = await rest(gw, "GET", "/services/no%20spaces");
    expect(viaRest.status).toBe(400);
    expect(error.extensions).toMatchObject({ code: 10, name: "invalid unique name" });
    expect(error.message).toBe(viaRest.body!.message as string);
    expect(error.path).toEqual(["service"]);
  });
});
