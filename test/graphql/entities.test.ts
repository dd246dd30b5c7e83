// Every entity in ENTITIES gets its GraphQL from its definition alone: the object type with every stored field
// (foreign keys as links to the parent's type), a page of each kind of child on the parent, the page, input and
// update-input types, the page and single queries, and the four mutations — with the parent as an argument
// for entities that belong to one (a required foreign key). Read off the built schema, so an entity added
// with a definition, a schema and a table but no GraphQL code is checked here too.
import { describe, expect, test } from "bun:test";
import {
  type GraphQLArgument,
  type GraphQLEnumType,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLObjectType,
  getNamedType,
  isNonNullType,
} from "graphql";
import { schema } from "../../src/admin/graphql/schema.ts";
import { walkFields } from "../../src/admin/zod-walk.ts";
import { ENTITIES, ENTITY_NAMES, referencesTo } from "../../src/store/entities/index.ts";
import { type EntityDefinition, storedFields } from "../../src/store/entity-def.ts";

const camel = (wire: string) => wire.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const lowerFirst = (word: string) => word[0]!.toLowerCase() + word.slice(1);
const typeName = (def: EntityDefinition) => def.graphql.type;

function objectType(name: string): GraphQLObjectType {
  const type = schema.getType(name);
  expect(type?.constructor.name).toBe("GraphQLObjectType");
  return type as GraphQLObjectType;
}

function inputType(name: string): GraphQLInputObjectType {
  const type = schema.getType(name);
  expect(type?.constructor.name).toBe("GraphQLInputObjectType");
  return type as GraphQLInputObjectType;
}

const signature = (args: readonly GraphQLArgument[]) =>
  Object.fromEntries(args.map((arg) => [arg.name, arg.type.toString()]));

/** The foreign key an entity belongs to (its only required one), if any. */
function ownerOf(def: EntityDefinition) {
  const fields = walkFields(def.shape);
  const required = def.foreignKeys.filter((fk) => !fields[fk.field]!.nullable);
  return required.length === 1 ? required[0]! : null;
}

const PAGE_ARGS = { size: "Int", offset: "String", tags: "[String!]", tagsMode: "TagsMode" };

describe("every entity's GraphQL is generated from its definition", () => {
  test("the registry is what the schema serves: ConfigEntity lists every entity", () => {
    const values = (schema.getType("ConfigEntity") as GraphQLEnumType).getValues().map((v) => v.value);
    expect(values.sort()).toEqual([...ENTITY_NAMES].sort());
  });

  for (const name of ENTITY_NAMES) {
    const def = ENTITIES[name] as EntityDefinition;
    const type = typeName(def);
    const singular = lowerFirst(type);
    const plural = `${singular}s`;
    const owner = ownerOf(def);
    const fields = walkFields(def.shape);

    describe(`${name} → ${type}`, () => {
      test("the object type has every stored field in camelCase; foreign keys link to the parent", () => {
        const exposed = objectType(type).getFields();
        for (const wire of storedFields(def)) {
          const field = exposed[camel(wire)];
          expect(field, `${type}.${camel(wire)}`).toBeDefined();
          const fk = def.foreignKeys.find((f) => f.field === wire);
          if (fk) expect(field!.type.toString()).toBe(typeName(ENTITIES[fk.entity] as EntityDefinition));
          // A nullable zod field is a nullable GraphQL field.
          else if (fields[wire]!.nullable && def.subschema?.field !== wire)
            expect(isNonNullType(field!.type), `${type}.${camel(wire)} nullable`).toBe(false);
        }
      });

      test("each kind of child is a page on the parent (Service.routes, Consumer.keyAuths)", () => {
        for (const ref of referencesTo(def.name)) {
          const child = typeName(ENTITIES[ref.child] as EntityDefinition);
          const field = objectType(type).getFields()[`${lowerFirst(child)}s`];
          expect(field?.type.toString()).toBe(`${child}Page!`);
          expect(signature(field!.args)).toEqual(PAGE_ARGS);
        }
      });

      test("the page type", () => {
        const page = objectType(`${type}Page`).getFields();
        expect(Object.keys(page).sort()).toEqual(["data", "hasNextPage", "offset", "totalCount"]);
        expect(page.data!.type.toString()).toBe(`[${type}!]!`);
      });

      test("the inputs take every writable field, none required by GraphQL (the store decides)", () => {
        const writable = Object.keys(fields).filter(
          (wire) => !["created_at", "updated_at"].includes(wire) && wire !== owner?.field,
        );
        for (const [suffix, expected] of [
          ["Input", writable],
          ["UpdateInput", writable.filter((wire) => wire !== "id")],
        ] as const) {
          const accepted = inputType(`${type}${suffix}`).getFields();
          expect(Object.keys(accepted).sort()).toEqual(expected.map(camel).sort());
          for (const field of Object.values(accepted)) expect(isNonNullType(field.type)).toBe(false);
          for (const fk of def.foreignKeys.filter((f) => f.field !== owner?.field))
            expect(accepted[camel(fk.field)]!.type.toString()).toBe(
              `${typeName(ENTITIES[fk.entity] as EntityDefinition)}ReferenceInput`,
            );
        }
      });

      test("queries: a page and one by id or endpoint key", () => {
        const queries = schema.getQueryType()!.getFields();
        expect(queries[plural]?.type.toString()).toBe(`${type}Page!`);
        expect(signature(queries[plural]!.args)).toEqual(PAGE_ARGS);
        expect(queries[singular]?.type.toString()).toBe(type);
        expect(signature(queries[singular]!.args)).toEqual({ [def.graphql.keyArg]: "String!" });
      });

      test(`mutations: add, update, upsert, delete${owner ? ` (the ${owner.field} as an argument)` : ""}`, () => {
        const mutations = schema.getMutationType()!.getFields();
        const parent = owner ? { [owner.field]: "String!" } : {};
        const key = { [def.graphql.keyArg]: "String!" };
        const expectField = (
          field: GraphQLField<unknown, unknown> | undefined,
          result: string,
          args: object,
        ) => {
          expect(field?.type.toString()).toBe(result);
          expect(signature(field!.args)).toEqual(args as Record<string, string>);
        };
        expectField(mutations[`add${type}`], `${type}!`, { ...parent, input: `${type}Input!` });
        expectField(mutations[`update${type}`], `${type}!`, { ...key, input: `${type}UpdateInput!` });
        expectField(mutations[`upsert${type}`], `${type}!`, { ...parent, ...key, input: `${type}Input!` });
        expectField(mutations[`delete${type}`], "ID", key);
      });
    });
  }

  test("credentials belong to their consumer; routes and plugins name their parents in the input", () => {
    for (const name of ["keyauth_credentials", "basicauth_credentials", "jwt_secrets", "acls"] as const)
      expect(ownerOf(ENTITIES[name] as EntityDefinition)?.field).toBe("consumer");
    for (const name of ["services", "routes", "consumers", "plugins"] as const)
      expect(ownerOf(ENTITIES[name] as EntityDefinition)).toBeNull();
    const plugin = inputType("PluginInput").getFields();
    expect(getNamedType(plugin.consumer!.type).toString()).toBe("ConsumerReferenceInput");
    expect(Object.keys(inputType("ConsumerReferenceInput").getFields()).sort()).toEqual(["id", "username"]);
    expect(Object.keys(inputType("ServiceReferenceInput").getFields()).sort()).toEqual(["id", "name"]);
  });

  test("shared types come from the zod schemas' names; maps are JSON unless named; nested records are types", () => {
    const route = objectType("Route").getFields();
    expect(route.protocols!.type.toString()).toBe("[Protocol!]!");
    expect(route.pathHandling!.type.toString()).toBe("PathHandling!");
    expect(route.headers!.type.toString()).toBe("[Header!]");
    expect(inputType("RouteInput").getFields().headers!.type.toString()).toBe("[HeaderInput!]");
    expect(route.sources!.type.toString()).toBe("[StreamEndpoint!]");
    expect(objectType("Service").getFields().protocol!.type.toString()).toBe("Protocol!");
    expect(objectType("Plugin").getFields().config!.type.toString()).toBe("JSON!");
    expect(objectType("JwtSecret").getFields().algorithm!.type.toString()).toBe("JwtAlgorithm!");
    expect(objectType("Service").getFields().connectTimeout!.description).toBe("Milliseconds.");
  });
});
