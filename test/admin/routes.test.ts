// Routes CRUD, routes nested under their service, a route's service (/routes/{r}/service), foreign keys
// (codes 4 and 13) and the refusal to delete a service that still has routes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import {
  call,
  createRoute,
  createService,
  invalidUniqueName,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  route,
  schemaViolation,
  service,
  uniqueViolation,
} from "./helpers.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

const MISSING_ID = "00000000-0000-4000-8000-00000000dead";

describe("POST /routes and GET", () => {
  test("a minimal route gets Kong's defaults and renders every field", async () => {
    const created = await call(tg, "/routes", { method: "POST", body: { paths: ["/min"] } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(route(created.body, { paths: ["/min"] }));
    expect(Object.keys(created.body)).toEqual([
      "id",
      "created_at",
      "updated_at",
      "name",
      "protocols",
      "methods",
      "hosts",
      "paths",
      "headers",
      "snis",
      "https_redirect_status_code",
      "regex_priority",
      "strip_path",
      "path_handling",
      "preserve_host",
      "request_buffering",
      "response_buffering",
      "tags",
      "sources",
      "destinations",
      "service",
    ]);
    expect((await call(tg, `/routes/${created.body.id}`)).body).toEqual(created.body);
  });

  test("every field can be set; sets collapse duplicates", async () => {
    const svc = await createService(tg, { name: "all-fields-svc", host: "a.example" });
    const fields = {
      name: "all-fields",
      protocols: ["https"],
      methods: ["GET", "POST", "GET"],
      hosts: ["a.example", "*.wild.example", "pre.*", "b.example:8080", "10.0.0.1"],
      paths: ["/exact", "~/regex/\\d+$"],
      headers: { "x-version": ["1", "2"], "X-Other": ["~*^v\\d$"] },
      snis: ["a.example", "a.example"],
      https_redirect_status_code: 308,
      regex_priority: -5,
      strip_path: false,
      path_handling: "v1",
      preserve_host: true,
      request_buffering: false,
      response_buffering: false,
      tags: ["t1", "t2"],
      service: { id: svc.id },
    };
    const created = await call(tg, "/routes", { method: "POST", body: fields });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(
      route(created.body, { ...fields, methods: ["GET", "POST"], snis: ["a.example"] }),
    );
    expect((await call(tg, "/routes/all-fields")).body).toEqual(created.body);
  });

  test("service given by name is stored and rendered as {id}", async () => {
    const svc = await createService(tg, { name: "by-name-svc", host: "a.example" });
    const created = await call(tg, "/routes", {
      method: "POST",
      body: { paths: ["/by-name"], service: { name: "by-name-svc" } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(route(created.body, { paths: ["/by-name"], service: { id: svc.id } }));
  });

  test("an unknown service id is code 4, an unknown name code 13; nothing is created", async () => {
    const byId = await call(tg, "/routes", {
      method: "POST",
      body: { name: "fk-id", paths: ["/fk"], service: { id: MISSING_ID } },
    });
    expect(byId.status).toBe(400);
    expect(byId.body).toEqual({
      code: 4,
      name: "foreign key violation",
      message: `the foreign key '{id="${MISSING_ID}"}' does not reference an existing 'services' entity.`,
      fields: { service: { id: MISSING_ID } },
    });
    const byName = await call(tg, "/routes", {
      method: "POST",
      body: { name: "fk-name", paths: ["/fk"], service: { name: "ghost" } },
    });
    expect(byName.status).toBe(400);
    const message = `the foreign key cannot be resolved with '{name="ghost"}' for an existing 'services' entity`;
    expect(byName.body).toEqual({
      code: 13,
      name: "foreign keys unresolved",
      message,
      fields: { service: { name: message } },
    });
    expect((await call(tg, "/routes/fk-id")).status).toBe(404);
    expect((await call(tg, "/routes/fk-name")).status).toBe(404);
  });

  test("malformed service references are schema violations", async () => {
    const cases: [unknown, Record<string, unknown>, string][] = [
      [{}, { service: "required field missing" }, "service: required field missing"],
      [{ id: "nope" }, { service: { id: "expected a valid UUID" } }, "service.id: expected a valid UUID"],
      ["abc", { service: "expected a record" }, "service: expected a record"],
      [{ id: MISSING_ID, extra: 1 }, { service: { extra: "unknown field" } }, "service.extra: unknown field"],
    ];
    for (const [ref, fields, part] of cases) {
      const res = await call(tg, "/routes", { method: "POST", body: { paths: ["/x"], service: ref } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(schemaViolation(fields, [part]));
    }
  });

  test("duplicate route name is 409", async () => {
    await createRoute(tg, { name: "dup-route", paths: ["/d"] });
    const again = await call(tg, "/routes", { method: "POST", body: { name: "dup-route", paths: ["/e"] } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(uniqueViolation("dup-route"));
  });

  test("missing route: GET 404 bare, PATCH 404 code 6, DELETE 204", async () => {
    expect(await call(tg, "/routes/none")).toMatchObject({ status: 404, body: NOT_FOUND });
    const patched = await call(tg, "/routes/none", { method: "PATCH", body: { paths: ["/x"] } });
    expect(patched.status).toBe(404);
    expect(patched.body).toEqual({
      code: 6,
      name: "not found",
      message: `could not find the entity with '{name="none"}'`,
      fields: { name: "none" },
    });
    expect(await call(tg, "/routes/none", { method: "DELETE" })).toMatchObject({ status: 204, text: "" });
  });
});

describe("PATCH, PUT and DELETE /routes/{name or id}", () => {
  test("PATCH merges, re-validates and can move the route to another service", async () => {
    const a = await createService(tg, { host: "a.example" });
    const b = await createService(tg, { name: "move-target", host: "b.example" });
    const created = await createRoute(tg, { name: "mover", paths: ["/m"], service: { id: a.id } });
    const patched = await call(tg, "/routes/mover", {
      method: "PATCH",
      body: { methods: ["GET"], service: { name: "move-target" } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({
      ...created,
      methods: ["GET"],
      service: { id: b.id },
      updated_at: patched.body.updated_at,
    });
    const detached = await call(tg, `/routes/${created.id}`, { method: "PATCH", body: { service: null } });
    expect(detached.body).toEqual({ ...patched.body, service: null, updated_at: detached.body.updated_at });
  });

  test("PATCH that removes the last matcher is refused and changes nothing", async () => {
    const created = await createRoute(tg, { name: "last-matcher", paths: ["/l"] });
    const patched = await call(tg, "/routes/last-matcher", { method: "PATCH", body: { paths: null } });
    expect(patched.status).toBe(400);
    const msg = "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'";
    expect(patched.body).toEqual(schemaViolation({ "@entity": [msg] }, [msg]));
    expect((await call(tg, "/routes/last-matcher")).body).toEqual(created);
  });

  test("PATCH with an unknown service is code 4 and changes nothing", async () => {
    const created = await createRoute(tg, { name: "fk-patch", paths: ["/f"] });
    const patched = await call(tg, "/routes/fk-patch", {
      method: "PATCH",
      body: { paths: ["/g"], service: { id: MISSING_ID } },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.code).toBe(4);
    expect((await call(tg, "/routes/fk-patch")).body).toEqual(created);
  });

  test("PUT creates by name, replaces keeping the id, resets omitted fields", async () => {
    const first = await call(tg, "/routes/put-route", {
      method: "PUT",
      body: { name: "ignored", paths: ["/p"], strip_path: false, tags: ["x"] },
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual(
      route(first.body, { name: "put-route", paths: ["/p"], strip_path: false, tags: ["x"] }),
    );
    const second = await call(tg, "/routes/put-route", { method: "PUT", body: { hosts: ["h.example"] } });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(
      route(second.body, { id: first.body.id, name: "put-route", hosts: ["h.example"] }),
    );
  });

  test("PUT by id creates with that id", async () => {
    const id = "44444444-2222-4333-8444-555555555555";
    const put = await call(tg, `/routes/${id}`, { method: "PUT", body: { paths: ["/by-id"] } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(route(put.body, { id, paths: ["/by-id"] }));
  });

  test("DELETE by name and by id", async () => {
    const a = await createRoute(tg, { name: "del-a", paths: ["/a"] });
    const b = await createRoute(tg, { paths: ["/b"] });
    expect((await call(tg, "/routes/del-a", { method: "DELETE" })).status).toBe(204);
    expect((await call(tg, `/routes/${b.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(tg, `/routes/${a.id}`)).status).toBe(404);
    expect((await call(tg, `/routes/${b.id}`)).status).toBe(404);
  });
});

describe("deleting a service that still has routes", () => {
  test("is refused with code 4 until its routes are gone", async () => {
    const svc = await createService(tg, { name: "has-routes", host: "a.example" });
    const r = await createRoute(tg, { paths: ["/hr"], service: { id: svc.id } });
    for (const key of ["has-routes", svc.id]) {
      const refused = await call(tg, `/services/${key}`, { method: "DELETE" });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        code: 4,
        name: "foreign key violation",
        message: "an existing 'routes' entity references this 'services' entity",
        fields: { "@referenced_by": "routes" },
      });
    }
    expect((await call(tg, "/services/has-routes")).body).toEqual(svc);
    expect((await call(tg, `/routes/${r.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(tg, "/services/has-routes", { method: "DELETE" })).status).toBe(204);
  });
});

describe("/services/{service}/routes", () => {
  let parent: { id: string };
  let other: { id: string };
  let own: Record<string, unknown> & { id: string };
  let foreign: Record<string, unknown> & { id: string };
  beforeAll(async () => {
    parent = await createService(tg, { name: "parent", host: "p.example" });
    other = await createService(tg, { name: "other-parent", host: "o.example" });
    foreign = await createRoute(tg, { name: "foreign-child", paths: ["/f"], service: { id: other.id } });
  });

  test("POST attaches to the parent whatever the body says", async () => {
    const created = await call(tg, "/services/parent/routes", {
      method: "POST",
      body: { name: "own-child", paths: ["/own"], service: { id: other.id } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(
      route(created.body, { name: "own-child", paths: ["/own"], service: { id: parent.id } }),
    );
    own = created.body;
  });

  test("GET lists only the parent's routes, by name or id", async () => {
    for (const key of ["parent", parent.id]) {
      const list = await call(tg, `/services/${key}/routes`);
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ data: [own], next: null });
    }
  });

  test("GET, PATCH and DELETE of a child by name or id", async () => {
    expect((await call(tg, "/services/parent/routes/own-child")).body).toEqual(own);
    expect((await call(tg, `/services/${parent.id}/routes/${own.id}`)).body).toEqual(own);
    const patched = await call(tg, "/services/parent/routes/own-child", {
      method: "PATCH",
      body: { methods: ["PUT"] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...own, methods: ["PUT"], updated_at: patched.body.updated_at });
    own = patched.body;
  });

  test("a route of another service is Not found through this parent, for every method", async () => {
    const path = "/services/parent/routes/foreign-child";
    expect(await call(tg, path)).toMatchObject({ status: 404, body: NOT_FOUND });
    expect(await call(tg, path, { method: "PATCH", body: { methods: ["GET"] } })).toMatchObject({
      status: 404,
      body: NOT_FOUND,
    });
    expect(await call(tg, path, { method: "PUT", body: { paths: ["/stolen"] } })).toMatchObject({
      status: 404,
      body: NOT_FOUND,
    });
    expect(await call(tg, path, { method: "DELETE" })).toMatchObject({ status: 404, body: NOT_FOUND });
    expect((await call(tg, "/routes/foreign-child")).body).toEqual(foreign);
  });

  test("a missing child: GET/PATCH/DELETE 404 bare; PUT creates it under the parent", async () => {
    const path = "/services/parent/routes/new-child";
    expect(await call(tg, path)).toMatchObject({ status: 404, body: NOT_FOUND });
    expect(await call(tg, path, { method: "PATCH", body: {} })).toMatchObject({
      status: 404,
      body: NOT_FOUND,
    });
    expect(await call(tg, path, { method: "DELETE" })).toMatchObject({ status: 404, body: NOT_FOUND });
    const put = await call(tg, path, { method: "PUT", body: { paths: ["/new"] } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(
      route(put.body, { name: "new-child", paths: ["/new"], service: { id: parent.id } }),
    );
    const replaced = await call(tg, path, { method: "PUT", body: { hosts: ["n.example"] } });
    expect(replaced.body).toEqual(
      route(replaced.body, {
        id: put.body.id,
        name: "new-child",
        hosts: ["n.example"],
        service: { id: parent.id },
      }),
    );
    expect(await call(tg, path, { method: "DELETE" })).toMatchObject({ status: 204, text: "" });
    expect((await call(tg, `/routes/${put.body.id}`)).status).toBe(404);
  });

  test("a missing parent is 404 for every method", async () => {
    for (const [path, method] of [
      ["/services/no-parent/routes", "GET"],
      ["/services/no-parent/routes", "POST"],
      ["/services/no-parent/routes/own-child", "GET"],
      ["/services/no-parent/routes/own-child", "PATCH"],
      ["/services/no-parent/routes/own-child", "PUT"],
      ["/services/no-parent/routes/own-child", "DELETE"],
      [`/services/${MISSING_ID}/routes`, "GET"],
    ] as const) {
      const body = method === "GET" || method === "DELETE" ? undefined : { paths: ["/x"] };
      const res = await call(tg, path, { method, body });
      expect({ path, method, status: res.status, body: res.body }).toEqual({
        path,
        method,
        status: 404,
        body: NOT_FOUND,
      });
    }
  });

  test("an invalid parent or child key is 400 code 10", async () => {
    expect(await call(tg, "/services/bad%20key/routes")).toMatchObject({
      status: 400,
      body: invalidUniqueName("bad key"),
    });
    expect(await call(tg, "/services/parent/routes/bad%20key")).toMatchObject({
      status: 400,
      body: invalidUniqueName("bad key"),
    });
  });
});

describe("/routes/{route}/service", () => {
  test("GET, PATCH and PUT act on the route's service; DELETE is 405", async () => {
    const svc = await createService(tg, { name: "rs-svc", host: "a.example", retries: 2 });
    await createRoute(tg, { name: "rs-route", paths: ["/rs"], service: { id: svc.id } });
    expect((await call(tg, "/routes/rs-route/service")).body).toEqual(svc);

    const patched = await call(tg, "/routes/rs-route/service", { method: "PATCH", body: { port: 8081 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...svc, port: 8081, updated_at: patched.body.updated_at });

    const put = await call(tg, "/routes/rs-route/service", {
      method: "PUT",
      body: { host: "b.example", name: "rs-svc-2" },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(service(put.body, { id: svc.id, name: "rs-svc-2", host: "b.example" }));
    expect((await call(tg, "/services/rs-svc-2")).body).toEqual(put.body);

    const del = await call(tg, "/routes/rs-route/service", { method: "DELETE" });
    expect(del).toMatchObject({ status: 405, body: METHOD_NOT_ALLOWED });
    expect((await call(tg, `/services/${svc.id}`)).body).toEqual(put.body);
  });

  test("a failed PATCH through the route leaves the service unchanged", async () => {
    const svc = await createService(tg, { host: "a.example" });
    await createRoute(tg, { name: "rs-fail", paths: ["/rf"], service: { id: svc.id } });
    const patched = await call(tg, "/routes/rs-fail/service", { method: "PATCH", body: { retries: -1 } });
    expect(patched.status).toBe(400);
    expect(patched.body).toEqual(
      schemaViolation({ retries: "value should be between 0 and 32767" }, [
        "retries: value should be between 0 and 32767",
      ]),
    );
    expect((await call(tg, `/services/${svc.id}`)).body).toEqual(svc);
  });

  test("a route without a service: GET, PATCH, DELETE 404; PUT creates and attaches one", async () => {
    const r = await createRoute(tg, { name: "orphan", paths: ["/o"] });
    expect(await call(tg, "/routes/orphan/service")).toMatchObject({ status: 404, body: NOT_FOUND });
    expect(await call(tg, "/routes/orphan/service", { method: "PATCH", body: {} })).toMatchObject({
      status: 404,
      body: NOT_FOUND,
    });
    expect(await call(tg, "/routes/orphan/service", { method: "DELETE" })).toMatchObject({
      status: 404,
      body: NOT_FOUND,
    });

    // a refused PUT attaches nothing
    const bad = await call(tg, "/routes/orphan/service", { method: "PUT", body: { port: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual(
      schemaViolation({ host: "required field missing" }, ["host: required field missing"]),
    );
    expect((await call(tg, "/routes/orphan")).body).toEqual(r);

    const put = await call(tg, "/routes/orphan/service", {
      method: "PUT",
      body: { name: "adopter", host: "adopt.example" },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(service(put.body, { name: "adopter", host: "adopt.example" }));
    const attached = await call(tg, "/routes/orphan");
    expect(attached.body).toEqual({
      ...r,
      service: { id: put.body.id },
      updated_at: attached.body.updated_at,
    });
    expect((await call(tg, "/routes/orphan/service")).body).toEqual(put.body);
  });

  test("a missing route is 404 for every method; an invalid key is code 10", async () => {
    for (const method of ["GET", "PATCH", "PUT", "DELETE"] as const) {
      const body = method === "PATCH" || method === "PUT" ? { host: "x.example" } : undefined;
      const res = await call(tg, "/routes/no-route/service", { method, body });
      expect({ method, status: res.status, body: res.body }).toEqual({
        method,
        status: 404,
        body: NOT_FOUND,
      });
    }
    expect(await call(tg, "/routes/no%20route/service")).toMatchObject({
      status: 400,
      body: invalidUniqueName("no route"),
    });
  });
});
