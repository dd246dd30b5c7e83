// The consumer, plugin and credential types follow their zod schemas, and every operation the README names
// exists (schema.graphql itself is checked by schema.test.ts).
import { describe, expect, test } from "bun:test";
import type { GraphQLInputObjectType, GraphQLObjectType } from "graphql";
import { schema } from "../../src/admin/graphql/schema.ts";
import { consumerFields } from "../../src/schemas/consumers.ts";
import {
  aclFields,
  basicAuthCredentialFields,
  jwtSecretFields,
  keyAuthCredentialFields,
} from "../../src/schemas/credentials.ts";
import { pluginFields } from "../../src/schemas/plugins.ts";

const camel = (wire: string) => wire.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Fields set by the store, never written; credentials are owned through the `consumer` argument. */
const AUTO = ["created_at", "updated_at"];

const TYPES: [string, Record<string, unknown>, string[]][] = [
  ["Consumer", consumerFields(), []],
  ["Plugin", pluginFields(), []],
  ["KeyAuth", keyAuthCredentialFields(), ["consumer"]],
  ["BasicAuth", basicAuthCredentialFields(), ["consumer"]],
  ["JwtSecret", jwtSecretFields(), ["consumer"]],
  ["Acl", aclFields(), ["consumer"]],
];

describe("types follow the zod schemas", () => {
  for (const [typeName, fields, notWritable] of TYPES) {
    test(`${typeName} has every field of the entity, in camelCase`, () => {
      const exposed = Object.keys((schema.getType(typeName) as GraphQLObjectType).getFields());
      for (const wire of Object.keys(fields)) expect(exposed).toContain(camel(wire));
    });

    for (const suffix of ["Input", "UpdateInput"])
      test(`${typeName}${suffix} accepts every writable field, none required by GraphQL`, () => {
        const accepted = (schema.getType(`${typeName}${suffix}`) as GraphQLInputObjectType).getFields();
        const writable = Object.keys(fields).filter(
          (f) => !AUTO.includes(f) && !notWritable.includes(f) && !(suffix === "UpdateInput" && f === "id"),
        );
        expect(Object.keys(accepted).sort()).toEqual(writable.map(camel).sort());
        for (const field of Object.values(accepted)) expect(field.type.toString().endsWith("!")).toBe(false);
      });
  }

  test("a plugin's config is opaque JSON, in and out", () => {
    const plugin = (schema.getType("Plugin") as GraphQLObjectType).getFields();
    expect(plugin.config!.type.toString()).toBe("JSON!");
    const input = (schema.getType("PluginInput") as GraphQLInputObjectType).getFields();
    expect(input.config!.type.toString()).toBe("JSON");
  });
});

describe("operations", () => {
  const credentialTypes = ["KeyAuth", "BasicAuth", "JwtSecret", "Acl"];

  test("queries and mutations for consumers, plugins and each kind of credential", () => {
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    const queries = Object.keys(schema.getQueryType()!.getFields());
    for (const type of ["Consumer", "Plugin", ...credentialTypes])
      for (const verb of ["add", "update", "upsert", "delete"]) expect(mutations).toContain(`${verb}${type}`);
    for (const name of [
      "consumers",
      "consumer",
      "plugins",
      "plugin",
      "enabledPlugins",
      "pluginSchema",
      "keyAuths",
      "keyAuth",
      "basicAuths",
      "basicAuth",
      "jwtSecrets",
      "jwtSecret",
      "acls",
      "acl",
    ])
      expect(queries).toContain(name);
  });

  test("links: plugins of services, routes and consumers; a consumer's credentials; owners back", () => {
    const fieldsOf = (name: string) => Object.keys((schema.getType(name) as GraphQLObjectType).getFields());
    for (const parent of ["Service", "Route", "Consumer"]) expect(fieldsOf(parent)).toContain("plugins");
    expect(fieldsOf("Consumer")).toEqual(
      expect.arrayContaining(["keyAuths", "basicAuths", "jwtSecrets", "acls"]),
    );
    expect(fieldsOf("Plugin")).toEqual(expect.arrayContaining(["service", "route", "consumer"]));
    for (const type of credentialTypes) expect(fieldsOf(type)).toContain("consumer");
  });

  test("credential mutations take the owner as `consumer` and the credential as `idOrKey`", () => {
    const mutations = schema.getMutationType()!.getFields();
    for (const type of credentialTypes) {
      const args = (name: string) => mutations[name]!.args.map((a) => `${a.name}: ${a.type}`);
      expect(args(`add${type}`)).toEqual(["consumer: String!", `input: ${type}Input!`]);
      expect(args(`upsert${type}`)).toEqual([
        "consumer: String!",
        "idOrKey: String!",
        `input: ${type}Input!`,
      ]);
      expect(args(`update${type}`)).toEqual(["idOrKey: String!", `input: ${type}UpdateInput!`]);
      expect(args(`delete${type}`)).toEqual(["idOrKey: String!"]);
    }
  });
});
