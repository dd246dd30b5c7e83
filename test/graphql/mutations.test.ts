// Every mutation over HTTP, read back through REST (and REST writes read back through GraphQL).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { gql, gqlData, onlyError, ROUTE_FIELDS, rest, SERVICE_FIELDS, toWireEntity } from "./support.ts";

let gw: TestGateway;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  gw = await startTestGateway();
  upstream = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("upstream ok") });
});

afterAll(async () => {
  await gw.stop();
  upstream.stop(true);
});

type Entity = Record<string, unknown> & { id: string };

const withoutTimes = ({ created_at: _c, updated_at: _u, ...rest }: Record<string, unknown>) => rest;

describe("services", () => {
  test("addService creates with defaults and the url shorthand; REST reads back the same service", async () => {
    const { addService } = await gqlData<{ addService: Entity }>(
      gw,
      `mutation($input: ServiceInput!) { addService(input: $input) { ${SERVICE_FIELDS} url } }`,
      {
        input: {
          name: "billing",
          url: "https://billing.internal:8443/v1",
          tags: ["team-a", "team-a", "pci"],
        },
      },
    );
    expect(addService).toMatchObject({
      name: "billing",
      protocol: "https",
      host: "billing.internal",
      port: 8443,
      path: "/v1",
      retries: 5,
      connectTimeout: 60000,
      tags: ["team-a", "pci"],
      enabled: true,
      url: "https://billing.internal:8443/v1",
    });
    const { url: _url, ...fields } = addService;
    const viaRest = await rest(gw, "GET", "/services/billing");
    expect(viaRest.status).toBe(200);
    expect(viaRest.body).toEqual(toWireEntity(fields));
  });

  test("addService keeps a client-chosen id", async () => {
    const id = "6f0d8f53-1f4e-4b4e-9d6e-2f3c9a7b1c01";
    const { addService } = await gqlData<{ addService: Entity }>(
      gw,
      `mutation { addService(input: { id: "${id.toUpperCase()}", host: "10.0.0.7", port: 8080 }) { id name port } }`,
    );
    expect(addService).toEqual({ id, name: null, port: 8080 });
    expect((await rest(gw, "GET", `/services/${id}`)).status).toBe(200);
  });

  test("a service created over REST is read and updated over GraphQL (PATCH semantics)", async () => {
    const created = await rest(gw, "POST", "/services", {
      name: "search",
      url: "http://search.internal/api",
      tags: ["x"],
      retries: 2,
    });
    expect(created.status).toBe(201);
    const { updateService } = await gqlData<{ updateService: Entity }>(
      gw,
      `mutation { updateService(idOrName: "search", input: { readTimeout: 5000, tags: null }) { ${SERVICE_FIELDS} } }`,
    );
    expect(updateService).toMatchObject({ readTimeout: 5000, tags: null, retries: 2, path: "/api" });
    // The url shorthand on update also clears path when the new URL has none (Kong).
    const moved = await gqlData<{ updateService: Record<string, unknown> }>(
      gw,
      'mutation { updateService(idOrName: "search", input: { url: "https://search.example" }) { protocol host port path } }',
    );
    expect(moved.updateService).toEqual({ protocol: "https", host: "search.example", port: 443, path: null });
    const viaRest = await rest(gw, "GET", "/services/search");
    expect(viaRest.body).toMatchObject({
      protocol: "https",
      port: 443,
      path: null,
      read_timeout: 5000,
      tags: null,
    });
    expect(viaRest.body!.updated_at).toBeGreaterThanOrEqual(created.body!.updated_at as number);
  });

  test("upsertService creates, then fully replaces (omitted fields back to defaults); the key wins", async () => {
    const first = await gqlData<{ upsertService: Entity }>(
      gw,
      'mutation { upsertService(idOrName: "catalog", input: { host: "catalog.a", retries: 9, path: "/x" }) { id name host retries path } }',
    );
    expect(first.upsertService).toMatchObject({ name: "catalog", host: "catalog.a", retries: 9, path: "/x" });
    const second = await gqlData<{ upsertService: Entity }>(
      gw,
      'mutation { upsertService(idOrName: "catalog", input: { name: "ignored", host: "catalog.b" }) { id name host retries path } }',
    );
    expect(second.upsertService).toEqual({
      id: first.upsertService.id,
      name: "catalog",
      host: "catalog.b",
      retries: 5,
      path: null,
    });
    // By id: creates a service with that id.
    const id = "0b8f7d7e-2b2a-4c1d-8c55-93c1b0d4e6aa";
    const byId = await gqlData<{ upsertService: Entity }>(
      gw,
      `mutation { upsertService(idOrName: "${id}", input: { name: "inventory", url: "http://inv" }) { id name } }`,
    );
    expect(byId.upsertService).toEqual({ id, name: "inventory" });
    expect((await rest(gw, "GET", "/services/inventory")).body!.id).toBe(id);
  });

  test("deleteService answers the deleted id, then null; REST no longer finds it", async () => {
    const { addService } = await gqlData<{ addService: Entity }>(
      gw,
      'mutation { addService(input: { name: "doomed", host: "d.example" }) { id } }',
    );
    const gone = await gqlData<{ deleteService: string | null }>(
      gw,
      'mutation { deleteService(idOrName: "doomed") }',
    );
    expect(gone.deleteService).toBe(addService.id);
    expect((await rest(gw, "GET", "/services/doomed")).status).toBe(404);
    const again = await gqlData<{ deleteService: string | null }>(
      gw,
      'mutation { deleteService(idOrName: "doomed") }',
    );
    expect(again.deleteService).toBeNull();
  });
});

describe("routes", () => {
  test("addRoute attaches to a service by name or id; headers map both ways; REST reads it back", async () => {
    const { service } = await gqlData<{ service: Entity }>(gw, '{ service(idOrName: "billing") { id } }');
    const byName = await gqlData<{ addRoute: Entity }>(
      gw,
      `mutation($input: RouteInput!) { addRoute(input: $input) { ${ROUTE_FIELDS} } }`,
      {
        input: {
          name: "invoices",
          paths: ["/invoices", "~/invoices/\\d+$"],
          methods: ["GET", "POST"],
          headers: [
            { name: "x-version", values: ["1", "2"] },
            { name: "x-team", values: ["a"] },
          ],
          stripPath: false,
          service: { name: "billing" },
        },
      },
    );
    expect(byName.addRoute).toMatchObject({
      name: "invoices",
      methods: ["GET", "POST"],
      headers: [
        { name: "x-version", values: ["1", "2"] },
        { name: "x-team", values: ["a"] },
      ],
      stripPath: false,
      service: { id: service.id },
    });
    const viaRest = await rest(gw, "GET", "/routes/invoices");
    expect(withoutTimes(viaRest.body!)).toEqual(withoutTimes(toWireEntity(byName.addRoute)));
    expect(viaRest.body!.headers).toEqual({ "x-version": ["1", "2"], "x-team": ["a"] });

    const byId = await gqlData<{ addRoute: { service: { name: string } } }>(
      gw,
      `mutation { addRoute(input: { hosts: ["pay.example"], service: { id: "${service.id}" } }) { service { name } } }`,
    );
    expect(byId.addRoute.service.name).toBe("billing");
  });

  test("a route created over REST is updated, replaced and deleted over GraphQL", async () => {
    const created = await rest(gw, "POST", "/services/search/routes", { name: "find", paths: ["/find"] });
    expect(created.status).toBe(201);
    const updated = await gqlData<{ updateRoute: Record<string, unknown> }>(
      gw,
      'mutation { updateRoute(idOrName: "find", input: { paths: ["/find", "/lookup"], preserveHost: true }) { paths preserveHost service { name } } }',
    );
    expect(updated.updateRoute).toEqual({
      paths: ["/find", "/lookup"],
      preserveHost: true,
      service: { name: "search" },
    });
    const replaced = await gqlData<{ upsertRoute: Entity }>(
      gw,
      'mutation { upsertRoute(idOrName: "find", input: { hosts: ["find.example"] }) { id name paths hosts preserveHost service { id } } }',
    );
    expect(replaced.upsertRoute).toEqual({
      id: created.body!.id as string,
      name: "find",
      paths: null,
      hosts: ["find.example"],
      preserveHost: false,
      service: null,
    });
    const deleted = await gqlData<{ deleteRoute: string }>(gw, 'mutation { deleteRoute(idOrName: "find") }');
    expect(deleted.deleteRoute).toBe(created.body!.id as string);
    expect((await rest(gw, "GET", "/routes/find")).status).toBe(404);
    expect(
      (await gqlData<{ deleteRoute: null }>(gw, 'mutation { deleteRoute(idOrName: "find") }')).deleteRoute,
    ).toBeNull();
  });

  test("a route added over GraphQL is served by the proxy", async () => {
    const port = upstream.port;
    await gqlData(
      gw,
      `mutation { addService(input: { name: "live", url: "http://127.0.0.1:${port}" }) { id } }`,
    );
    await gqlData(gw, 'mutation { addRoute(input: { paths: ["/live"], service: { name: "live" } }) { id } }');
    await gw.gateway.synced();
    const proxied = await gw.proxy("/live");
    expect(proxied.status).toBe(200);
    expect(await proxied.text()).toBe("upstream ok");
  });
});

describe("refreshServices", () => {
  test("probes every enabled service and reports up/down per service", async () => {
    const port = upstream.port;
    await rest(gw, "PUT", "/services/healthy", { url: `http://127.0.0.1:${port}/health` });
    await rest(gw, "PUT", "/services/off", { url: `http://127.0.0.1:${port}/`, enabled: false });
    const { refreshServices } = await gqlData<{ refreshServices: Record<string, unknown>[] }>(
      gw,
      "mutation { refreshServices { id name url up status error latencyMs } }",
    );
    const healthy = refreshServices.find((h) => h.name === "healthy");
    expect(healthy).toMatchObject({
      url: `http://127.0.0.1:${port}/health`,
      up: true,
      status: 200,
      error: null,
    });
    expect(typeof healthy!.latencyMs).toBe("number");
    expect(refreshServices.find((h) => h.name === "off")).toBeUndefined();
    const down = refreshServices.find((h) => h.name === "billing");
    expect(down).toMatchObject({ up: false, status: null });
    // It is the same work as the seed's PATCH /services: one result per enabled service.
    const enabled = (
      (await rest(gw, "GET", "/services?size=1000")).body!.data as { enabled: boolean }[]
    ).filter((s) => s.enabled);
    expect(refreshServices).toHaveLength(enabled.length);
  });

  test("is a mutation: it cannot run over GET", async () => {
    const response = await fetch(
      `${gw.adminUrl}/graphql?query=${encodeURIComponent("mutation { refreshServices { id } }")}`,
    );
    expect(response.status).toBe(405);
  });
});

describe("error rendering", () => {
  test("a failed mutation leaves data null and names the failing field in `path`", async () => {
    const result = await gql(gw, 'mutation { addService(input: { name: "billing", host: "x" }) { id } }');
    const error = onlyError(result);
    expect(result.data).toBeNull();
    expect(error.path).toEqual(["addService"]);
    expect(error.extensions).toEqual({
      code: 5,
      name: "unique constraint violation",
      fields: { name: "billing" },
    });
    expect(error.message).toBe(`UNIQUE violation detected on '{name="billing"}'`);
  });
});
