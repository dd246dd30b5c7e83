// The one zod walker: what it reads off the project's own field types (schemas/common.ts), and that the REST
// form decoder's kinds read through it are what Kong's form bodies need.
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { kindsOf } from "../../src/admin/rest/form.ts";
import { walkField, walkValue } from "../../src/admin/zod-walk.ts";
import {
  defaulted,
  foreignRef,
  integer,
  nullable,
  protocol,
  requiredWithDefault,
  set,
  tags,
  timestamp,
  uuid,
} from "../../src/schemas/common.ts";
import { pluginFields } from "../../src/schemas/plugins.ts";
import { routeFields } from "../../src/schemas/routes.ts";
import { serviceFields } from "../../src/schemas/services.ts";

describe("values", () => {
  test("strings: a UUID (a regex check under a lower-casing transform) is told apart", () => {
    expect(walkValue(uuid())).toEqual({ type: "string", uuid: true });
    expect(walkValue(z.string().min(2).max(5))).toEqual({
      type: "string",
      uuid: false,
      minLength: 2,
      maxLength: 5,
    });
    expect(walkValue(z.uuid())).toMatchObject({ type: "string", uuid: true });
  });

  test("numbers: integers and their bounds", () => {
    expect(walkValue(integer(0, 65535))).toEqual({ type: "number", integer: true, min: 0, max: 65535 });
    expect(walkValue(z.number())).toEqual({ type: "number", integer: false });
    expect(walkValue(timestamp())).toEqual({ type: "number", integer: true });
  });

  test("sets are arrays that collapse duplicates; enums keep their values and their shared name", () => {
    expect(walkValue(set(protocol()))).toEqual({
      type: "array",
      set: true,
      item: {
        type: "enum",
        values: ["http", "https"],
        name: "Protocol",
        description: "A service's or route's protocol (wire values, as in REST).",
      },
    });
    expect(walkValue(z.array(z.boolean()).min(1))).toEqual({
      type: "array",
      set: false,
      item: { type: "boolean" },
      minLength: 1,
    });
    expect(walkValue(z.literal(3))).toEqual({ type: "enum", values: [3] });
  });

  test("records in definition order, maps, and what zod cannot type", () => {
    const ref = walkValue(foreignRef("username"));
    expect(ref.type === "record" && Object.keys(ref.fields)).toEqual(["id", "username", "name"]);
    expect(walkValue(z.record(z.string(), z.array(z.string())))).toEqual({
      type: "map",
      key: { type: "string", uuid: false },
      value: { type: "array", set: false, item: { type: "string", uuid: false } },
    });
    expect(walkValue(z.union([z.string(), z.number()]))).toEqual({ type: "unknown" });
  });

  test("a preprocess step leads to the schema it feeds (a service with its url shorthand)", () => {
    const stepped = z.preprocess((v) => v, z.strictObject({ a: z.string() }));
    expect(walkValue(stepped)).toMatchObject({ type: "record", fields: { a: { node: { type: "string" } } } });
  });
});

describe("fields", () => {
  test("nullable() keeps null (rendered null when unset); defaulted() and requiredWithDefault() never do", () => {
    expect(walkField(nullable(integer(0, 10)))).toMatchObject({
      nullable: true,
      optional: true,
      default: null,
    });
    expect(walkField(tags())).toMatchObject({ nullable: true, optional: true });
    expect(walkField(defaulted(integer(0, 10), 5))).toMatchObject({
      nullable: false,
      optional: true,
      default: 5,
    });
    expect(walkField(requiredWithDefault(protocol(), "http"))).toMatchObject({
      nullable: false,
      optional: true,
      default: "http",
    });
    expect(walkField(uuid().optional())).toMatchObject({ nullable: false, optional: true });
    const bounded = integer(0, 1);
    expect(walkField(bounded)).toEqual({
      node: { type: "number", integer: true, min: 0, max: 1 },
      schema: bounded,
      nullable: false,
      optional: false,
    });
  });

  test("a field's description is its own, never the description of the named type it uses", () => {
    expect(walkField(timestamp().optional()).description).toBe("Unix time, seconds.");
    expect(walkField(serviceFields().connect_timeout).description).toBe("Milliseconds.");
    expect(walkField(serviceFields().protocol).description).toBeUndefined();
    const described = requiredWithDefault(protocol(), "http").meta({ description: "Where to." });
    expect(walkField(described).description).toBe("Where to.");
    expect(walkField(described).node.description).toBe(
      "A service's or route's protocol (wire values, as in REST).",
    );
  });
});

describe("form kinds read through the walker", () => {
  test("route and service fields: numbers, booleans, lists, maps of lists, records", () => {
    const route = kindsOf(routeFields());
    expect(route.regex_priority).toEqual({ kind: "number" });
    expect(route.strip_path).toEqual({ kind: "boolean" });
    expect(route.protocols).toEqual({ kind: "array", item: { kind: "string" } });
    expect(route.headers).toEqual({ kind: "map", value: { kind: "array", item: { kind: "string" } } });
    expect(route.sources).toEqual({
      kind: "array",
      item: { kind: "record", fields: { ip: { kind: "string" }, port: { kind: "number" } } },
    });
    expect(route.service).toEqual({
      kind: "record",
      fields: { id: { kind: "string" }, name: { kind: "string" } },
    });
    const service = kindsOf(serviceFields());
    expect(service.port).toEqual({ kind: "number" });
    expect(service.url).toEqual({ kind: "string" });
    expect(service.ca_certificates).toEqual({ kind: "array", item: { kind: "string" } });
    expect(kindsOf(pluginFields()).config).toEqual({ kind: "map", value: { kind: "string" } });
  });
});
