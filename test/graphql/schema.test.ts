// The committed artefacts stay current, the schema exposes every entity field, and one graphql is installed.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type GraphQLInputObjectType, type GraphQLObjectType, getNamedType } from "graphql";
import pkg from "../../package.json" with { type: "json" };
import { SCHEMA_FILE } from "../../scripts/graphql-schema.ts";
import { printSdl, schema } from "../../src/admin/graphql/schema.ts";
import { routeFields } from "../../src/schemas/routes.ts";
import { serviceFields } from "../../src/schemas/services.ts";

const ROOT = join(import.meta.dir, "..", "..");
const camel = (wire: string) => wire.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

describe("committed artefacts", () => {
  test("schema.graphql is the current schema (run `bun scripts/graphql-schema.ts` after a change)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(printSdl());
  });

  test("the GraphiQL assets match the installed render-graphiql (run `bun scripts/graphiql-assets.ts`)", () => {
    // In its own process: render-graphiql is a 9 MB module that the test runner need not keep loaded.
    const check = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "graphiql-assets.ts"), "--check"], {
      cwd: ROOT,
    });
    expect(check.stderr.toString()).toBe("");
    expect(check.exitCode).toBe(0);
  });
});

describe("the schema follows the zod schemas", () => {
  const outputs = {
    Service: { fields: serviceFields, writeOnly: ["url"] },
    Route: { fields: routeFields, writeOnly: [] as string[] },
  };

  for (const [typeName, { fields, writeOnly }] of Object.entries(outputs)) {
    test(`${typeName} has every field of the entity, in camelCase`, () => {
      const type = schema.getType(typeName) as GraphQLObjectType;
      const exposed = Object.keys(type.getFields());
      for (const wire of Object.keys(fields).filter((f) => !writeOnly.includes(f)))
        expect(exposed).toContain(camel(wire));
    });

    for (const suffix of ["Input", "UpdateInput"]) {
      test(`${typeName}${suffix} accepts every writable field, and none is required by GraphQL`, () => {
        const type = schema.getType(`${typeName}${suffix}`) as GraphQLInputObjectType;
        const accepted = type.getFields();
        const writable = Object.keys(fields).filter(
          (f) => !["created_at", "updated_at"].includes(f) && !(suffix === "UpdateInput" && f === "id"),
        );
        for (const wire of writable) expect(Object.keys(accepted)).toContain(camel(wire));
        // The zod schema decides what is required, so a missing field is Kong's error, not GraphQL's.
        for (const field of Object.values(accepted)) expect(field.type.toString().endsWith("!")).toBe(false);
      });
    }
  }

  test("the mutations and queries the issue names exist", () => {
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    for (const name of [
      "addService",
      "updateService",
      "upsertService",
      "deleteService",
      "refreshServices",
      "addRoute",
      "updateRoute",
      "upsertRoute",
      "deleteRoute",
    ])
      expect(mutations).toContain(name);
    const queries = Object.keys(schema.getQueryType()!.getFields());
    for (const name of ["services", "service", "routes", "route", "status"]) expect(queries).toContain(name);
    const subscriptions = Object.keys(schema.getSubscriptionType()!.getFields());
    expect(subscriptions.sort()).toEqual(["configChanged", "serviceHealth", "targetHealth"]);
    const page = getNamedType(schema.getQueryType()!.getFields().services!.type) as GraphQLObjectType;
    expect(Object.keys(page.getFields()).sort()).toEqual(["data", "hasNextPage", "offset", "totalCount"]);
  });
});

describe("dependencies", () => {
  test("graphql is pinned to one exact version and installed exactly once", () => {
    const pinned = (pkg.dependencies as Record<string, string>).graphql;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    const copies: string[] = [];
    const walk = (dir: string, depth: number) => {
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.startsWith(".")) continue;
        const path = join(dir, entry);
        if (entry.startsWith("@")) {
          walk(path, depth);
          continue;
        }
        if (entry === "graphql") {
          try {
            const manifest = JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as {
              version: string;
            };
            copies.push(`${path}@${manifest.version}`);
          } catch {}
        }
        const nested = join(path, "node_modules");
        if (depth < 6 && statSync(path).isDirectory()) walk(nested, depth + 1);
      }
    };
    walk(join(ROOT, "node_modules"), 0);
    expect(copies).toEqual([`${join(ROOT, "node_modules", "graphql")}@${pinned}`]);
  });
});
