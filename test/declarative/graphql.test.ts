// GraphQL's applyConfig: the plan as typed data, dry run first, then applied; an invalid file is one error
// carrying Kong's code 14 with nested and flattened errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gql } from "../graphql/support.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";

let tg: TestGateway;
beforeAll(async () => {
  tg = await startTestGateway();
});
afterAll(() => tg.stop());

const APPLY = `mutation($config: String!, $dryRun: Boolean) {
  applyConfig(config: $config, dryRun: $dryRun) {
    created updated deleted applied
    changes { action entity name fields { field from to } }
  }
}`;

const config = (port: number) => `_format_version: "3.0"
services:
  - name: gql-svc
    host: gql.internal
    port: ${port}
    routes:
      - name: gql-route
        paths: [/gql]
`;

describe("applyConfig", () => {
  test("dry run, apply, then an update with its field changes", async () => {
    const dry = await gql(tg, APPLY, { config: config(80), dryRun: true });
    expect(dry.errors).toBeUndefined();
    expect(dry.data).toEqual({
      applyConfig: {
        created: 2,
        updated: 0,
        deleted: 0,
        applied: false,
        changes: [
          { action: "create", entity: "service", name: "gql-svc", fields: [] },
          { action: "create", entity: "route", name: "gql-route", fields: [] },
        ],
      },
    });
    expect((await (await tg.admin("/services")).json()).data).toEqual([]);
    const applied = await gql(tg, APPLY, { config: config(80) });
    expect(applied.data).toMatchObject({ applyConfig: { created: 2, applied: true } });
    const update = await gql(tg, APPLY, { config: config(8080) });
    expect(update.data).toEqual({
      applyConfig: {
        created: 0,
        updated: 1,
        deleted: 0,
        applied: true,
        changes: [
          {
            action: "update",
            entity: "service",
            name: "gql-svc",
            fields: [{ field: "port", from: 80, to: 8080 }],
          },
        ],
      },
    });
    const services = (await (await tg.admin("/services")).json()).data as { port: number }[];
    expect(services.map((s) => s.port)).toEqual([8080]);
  });

  test("an invalid file: Kong's code 14 with nested and flattened errors", async () => {
    const bad = await gql(tg, APPLY, { config: '_format_version: "3.0"\nservices:\n  - name: nohost\n' });
    expect(bad.data).toBeNull();
    expect(bad.errors).toEqual([
      {
        message: "declarative config is invalid: services[0] (service nohost): host: required field missing",
        locations: [{ line: 2, column: 3 }],
        path: ["applyConfig"],
        extensions: {
          code: 14,
          name: "invalid declarative configuration",
          fields: { services: [{ host: "required field missing" }] },
          flattenedErrors: [
            {
              entity_type: "service",
              entity_name: "nohost",
              entity: { name: "nohost" },
              errors: [{ type: "field", field: "host", message: "required field missing" }],
            },
          ],
        },
      } as never,
    ]);
  });
});
