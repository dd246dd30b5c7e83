// Every entity's GraphQL, generated from its definition (store/entities/): the object type (its zod fields in
// camelCase, foreign keys as links to the parent, and a page of each kind of child), the page type, the input
// and update-input types, the queries (a page, one by id or endpoint key) and the mutations (add, update,
// upsert, delete). An entity whose foreign key is required belongs to that parent (a consumer's credentials,
// an upstream's targets): its `add`/`upsert` take the parent as an argument, like REST's nested URLs.
//
// Nothing is validated here: the store validates every write once, with the zod schema REST uses, and its
// errors (Kong's codes and field paths) are renamed to the client's field names on the way out.
import type { ImplementableObjectRef, InputObjectRef, ObjectRef } from "@pothos/core";
import { GatewayError, isGatewayError } from "../../errors.ts";
import type { EntityRepository, Scope } from "../../store/contract.ts";
import { ENTITIES, ENTITY_NAMES, referencesTo } from "../../store/entities/index.ts";
import {
  describeKey,
  type EntityDefinition,
  type EntityName,
  type ForeignKey,
  parseEntityKey,
  storedFields,
} from "../../store/entity-def.ts";
import { walkFields, type ZodFields } from "../zod-walk.ts";
import { type BuilderTypes, builder, type GraphqlContext } from "./builder.ts";
import { type FieldNamer, toGraphqlError } from "./errors.ts";
import type { Row } from "./loaders.ts";
import { loadPage, type PageArgs, type PageResult, pageArgs, pageType } from "./pagination.ts";
import { camelCase } from "./wire.ts";
import { isNullableField, pascalCase, recordErrors, recordToWire, type Shape, shapeOf } from "./zod-types.ts";

/** Set by the store on every write (Kong's auto fields): always present when read, never written. */
const STORE_SET = new Set(["id", "created_at", "updated_at"]);
const NOT_WRITTEN = new Set(["created_at", "updated_at"]);

type Entity = { id: string } & Row;
type Repository = EntityRepository<Entity>;

export type EntityGraphql = {
  def: EntityDefinition;
  /** `KeyAuth`, `keyAuth`, `keyAuths`. */
  type: string;
  singular: string;
  plural: string;
  /** The parent an entity belongs to (its required foreign key), named by an argument of add and upsert. */
  owner: ForeignKey | null;
  fields: ZodFields;
  /** Each non-foreign field's GraphQL shape. */
  shapes: Readonly<Record<string, Shape>>;
  object: ImplementableObjectRef<BuilderTypes, Entity>;
  page: ObjectRef<BuilderTypes, PageResult<Entity>>;
};

const lowerFirst = (word: string) => word[0]!.toLowerCase() + word.slice(1);
/** `a Service`, `an Acl`. */
const a = (word: string) => `${/^[AEIOU]/i.test(word) ? "an" : "a"} ${word}`;

/** What a partial update merges instead of replacing (a plugin's `config`), for descriptions. */
function mergedNote(def: EntityDefinition): string {
  const merged = (def.mergedOnUpdate ?? []).map((f) => `\`${camelCase(f)}\``);
  return merged.length > 0
    ? `${merged.join(", ")} ${merged.length > 1 ? "are" : "is"} merged key by key`
    : "";
}

/** What names one entity outside any parent: an ACL's group or a target's address only names it under its parent. */
function namedBy(def: EntityDefinition): string {
  if (def.endpointKeyScope)
    return `id (its ${def.graphql.keyName} names it only under its ${def.endpointKeyScope})`;
  return def.endpointKey ? `id or ${def.graphql.keyName}` : "id";
}

const repository = (ctx: GraphqlContext, name: EntityName) =>
  ctx.admin.store.entity(name) as unknown as Repository;

/** REST's collection of an entity under one parent (`/consumers/{consumer}/key-auth`), for descriptions. */
function nestedCollection(def: EntityDefinition, fk: ForeignKey, parentArg: string = fk.field): string {
  return `/${ENTITIES[fk.entity].admin.path}/{${parentArg}}/${def.admin.nestedPath ?? def.admin.path}`;
}

/** REST's collection of an entity: its own, or under its parent when Kong only nests it (targets). */
function restCollection(def: EntityDefinition): string {
  return def.admin.topLevel ? `/${def.admin.path}` : nestedCollection(def, def.foreignKeys[0]!);
}

function declare(def: EntityDefinition): EntityGraphql {
  const type = def.graphql.type;
  const singular = lowerFirst(type);
  const plural = `${singular}s`;
  const fields = walkFields(def.shape);
  const required = def.foreignKeys.filter((fk) => !fields[fk.field]?.nullable);
  const shapes: Record<string, Shape> = {};
  for (const [wire, field] of Object.entries(fields))
    if (!def.foreignKeys.some((fk) => fk.field === wire))
      shapes[wire] = shapeOf(field.node, type + pascalCase(wire));
  const object = builder.objectRef<Entity>(type);
  return {
    def,
    type,
    singular,
    plural,
    owner: required.length === 1 ? required[0]! : null,
    fields,
    shapes,
    object,
    page: pageType(`${type}Page`, object, `One page of ${plural}.`),
  };
}

const ENTITY_GRAPHQL = new Map<EntityName, EntityGraphql>(
  ENTITY_NAMES.map((name) => [name, declare(ENTITIES[name] as EntityDefinition)]),
);

const graphqlOf = (name: EntityName) => ENTITY_GRAPHQL.get(name)!;

/** An entity's object type, for modules that add hand-written fields to it. */
export function entityObject(name: EntityName): ObjectRef<BuilderTypes, Entity> {
  return graphqlOf(name).object;
}

// --- object types ------------------------------------------------------------------------------

function implementObject(e: EntityGraphql): void {
  const { def } = e;
  e.object.implement({
    description:
      def.graphql.description ??
      `Kong's ${def.name}. Field rules are those of REST's \`/${def.admin.path}\`.`,
    fields: (t) => {
      const own = storedFields(def).map((wire) => {
        const field = e.fields[wire]!;
        const fk = def.foreignKeys.find((f) => f.field === wire);
        if (fk)
          return [
            camelCase(wire),
            t.field({
              type: graphqlOf(fk.entity).object,
              // A link is a second read: the parent may be gone by then.
              nullable: true,
              description: field.description,
              resolve: (entity, _args, ctx) => {
                const ref = entity[wire] as { id: string } | null;
                return ref ? (ctx.loaders.load(fk.entity, ref.id) as Promise<Entity | null>) : null;
              },
            }),
          ] as const;
        // A subschema field (a plugin's config) is always parsed into a record by its subschema.
        const nullable =
          def.subschema?.field !== wire &&
          (field.nullable || (!STORE_SET.has(wire) && isNullableField(field)));
        return [
          camelCase(wire),
          t.field({
            type: e.shapes[wire]!.output,
            nullable,
            description: field.description,
            resolve: (entity) => e.shapes[wire]!.toGraphql(entity[wire] ?? null) as never,
          }),
        ] as const;
      });
      const children = referencesTo(def.name).map((ref) => {
        const child = graphqlOf(ref.child);
        const nested = nestedCollection(child.def, ref, def.graphql.keyArg);
        return [
          child.plural,
          t.field({
            type: child.page,
            description: `The ${e.singular}'s ${child.plural} (REST: \`GET ${nested}\`).`,
            args: pageArgs,
            resolve: (parent, args, ctx) =>
              loadPage(repository(ctx, ref.child), args, { [ref.field]: parent.id }),
          }),
        ] as const;
      });
      const names = [...own, ...children].map(([name]) => name);
      const clash = names.find((name, i) => names.indexOf(name) !== i);
      if (clash) throw new Error(`GraphQL field ${e.type}.${clash} would be generated twice`);
      return Object.fromEntries([...own, ...children]);
    },
  });
}

// --- inputs ------------------------------------------------------------------------------------

/** How a foreign key is written: `{id}` or the parent's endpoint key (`{name}`, `{username}`). */
function referenceInput(parent: EntityGraphql): InputObjectRef<BuilderTypes, Row> {
  const name = `${parent.type}ReferenceInput`;
  const key = parent.def.endpointKey?.field;
  return builder.inputType(name, {
    description: `A reference to ${a(parent.type)}: by \`id\`${key ? ` or by \`${camelCase(key)}\`` : ""}.`,
    fields: (t) => ({
      id: t.id(),
      ...(key ? { [camelCase(key)]: t.string() } : {}),
    }),
  });
}

const referenceInputs = new Map<EntityName, InputObjectRef<BuilderTypes, Row>>();
function referenceInputOf(parent: EntityName) {
  let input = referenceInputs.get(parent);
  if (!input) {
    input = referenceInput(graphqlOf(parent));
    referenceInputs.set(parent, input);
  }
  return input;
}

/** The fields a client writes: not the store's timestamps, not the owner (an argument of its own). */
function writable(e: EntityGraphql): string[] {
  return Object.keys(e.fields).filter((wire) => !NOT_WRITTEN.has(wire) && wire !== e.owner?.field);
}

type Inputs = { input: InputObjectRef<BuilderTypes, Row>; updateInput: InputObjectRef<BuilderTypes, Row> };

function inputTypes(e: EntityGraphql): Inputs {
  const fieldsOf = (t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, "InputObject">, withId: boolean) =>
    Object.fromEntries(
      writable(e)
        .filter((wire) => withId || wire !== "id")
        .map((wire) => {
          const field = e.fields[wire]!;
          const fk = e.def.foreignKeys.find((f) => f.field === wire);
          const description =
            field.description ??
            (wire === "id" ? "Chosen by the client on create; generated when absent." : undefined);
          const type = fk ? referenceInputOf(fk.entity) : e.shapes[wire]!.input;
          return [camelCase(wire), t.field({ type, description })];
        }),
    );
  const merged = mergedNote(e.def);
  return {
    input: builder.inputType(`${e.type}Input`, {
      description: `A whole ${e.type} (create, or Kong's PUT: omitted fields go back to their defaults).`,
      fields: (t) => fieldsOf(t, true),
    }),
    updateInput: builder.inputType(`${e.type}UpdateInput`, {
      description: `A partial update (Kong's PATCH): only the fields given change${merged ? ` (${merged})` : ""}; \`null\` clears an optional field.`,
      fields: (t) => fieldsOf(t, false),
    }),
  };
}

/** An input as the store's body: wire names, nested values converted; foreign references as written. */
function toWire(e: EntityGraphql, input: Row): Row {
  return recordToWire(input, e.shapes) as Row;
}

// --- operations --------------------------------------------------------------------------------

/** The store's field errors under the client's names; a plugin's config or a map's keys stay as written. */
function errorNamer(e: EntityGraphql): FieldNamer {
  return recordErrors(e.shapes) as FieldNamer;
}

/** A write: errors in the client's names, and the request's cached links dropped once it is done. */
async function write<T>(e: EntityGraphql, ctx: GraphqlContext, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isGatewayError(error) ? toGraphqlError(error, undefined, errorNamer(e)) : error;
  } finally {
    ctx.loaders.clear();
  }
}

/** What REST calls the upsert: PUT, or, where PUT only updates (Kong's targets), POST and PUT together. */
function upsertRest(def: EntityDefinition, put: string, created: string): string {
  return def.graphql.putUpdates
    ? `REST: \`POST ${created}\` to create; Kong's \`PUT ${put}\` only updates an existing one, like PATCH`
    : `REST: \`PUT ${put}\``;
}

/** The parent named by an `add`/`upsert` argument (id or endpoint key); missing → code 6, like a missing entity. */
async function ownerScope(ctx: GraphqlContext, owner: ForeignKey, key: string): Promise<Scope> {
  const found = await repository(ctx, owner.entity).get(key);
  if (found) return { [owner.field]: found.id };
  const parent = graphqlOf(owner.entity);
  const named = describeKey(parseEntityKey(parent.def, key));
  throw new GatewayError("NOT_FOUND", `could not find the ${parent.singular} with '${named}'`, {
    [owner.field]: key,
  });
}

function deleteNote(def: EntityDefinition): string {
  const refs = referencesTo(def.name);
  const restricted = refs.filter((r) => r.onDelete === "restrict").map((r) => graphqlOf(r.child).plural);
  const cascaded = refs.filter((r) => r.onDelete === "cascade").map((r) => graphqlOf(r.child).plural);
  let note = "";
  if (cascaded.length > 0) note += ` Its ${cascaded.join(", ")} go with it.`;
  if (restricted.length > 0) note += ` Refused while ${restricted.join(", ")} use it (error code 4).`;
  return note;
}

function operations(e: EntityGraphql, inputs: Inputs): void {
  const { def, type, singular, plural, owner } = e;
  const keyArg = def.graphql.keyArg;
  const repo = (ctx: GraphqlContext) => repository(ctx, def.name);
  const collection = restCollection(def);
  const one = `${collection}/{${keyArg}}`;
  const ownerParent = owner ? graphqlOf(owner.entity) : null;
  const created = owner ? nestedCollection(def, owner) : collection;

  builder.queryFields((t) => ({
    [plural]: t.field({
      type: e.page,
      description: `${type} entities, ordered by id (REST: \`GET ${collection}\`).`,
      args: pageArgs,
      resolve: (_root, args: PageArgs, ctx) => loadPage(repo(ctx), args),
    }),
    [singular]: t.field({
      type: e.object,
      nullable: true,
      description: `One ${type} by ${namedBy(def)}; null when there is none.`,
      args: { [keyArg]: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => repo(ctx).get(args[keyArg] as string),
    }),
  }));

  builder.mutationFields((t) => {
    const key = () => t.arg.string({ required: true });
    const ownerArgs = () =>
      owner
        ? {
            [owner.field]: t.arg.string({
              required: true,
              description: `The owner: ${a(ownerParent!.singular)}, by ${namedBy(ownerParent!.def)}.`,
            }),
          }
        : {};
    const scope = async (ctx: GraphqlContext, args: Record<string, unknown>) =>
      owner ? ownerScope(ctx, owner, args[owner.field] as string) : undefined;
    return {
      [`add${type}`]: t.field({
        type: e.object,
        description: `Create ${a(type)}${owner ? ` for ${a(ownerParent!.singular)}` : ""} (REST: \`POST ${created}\`).`,
        args: { ...ownerArgs(), input: t.arg({ type: inputs.input, required: true }) },
        resolve: (_root, args, ctx) =>
          write(e, ctx, async () => repo(ctx).insert(toWire(e, args.input as Row), await scope(ctx, args))),
      }),
      [`update${type}`]: t.field({
        type: e.object,
        description:
          `Change some fields of ${a(type)} (REST: \`PATCH ${one}\`)${mergedNote(def) ? `: ${mergedNote(def)}` : ""}; ` +
          "the result is validated as a whole. A missing one is error code 6.",
        args: { [keyArg]: key(), input: t.arg({ type: inputs.updateInput, required: true }) },
        resolve: (_root, args, ctx) =>
          write(e, ctx, () => repo(ctx).update(args[keyArg] as string, toWire(e, args.input as Row))),
      }),
      [`upsert${type}`]: t.field({
        type: e.object,
        description:
          `Create or fully replace ${a(type)} (${upsertRest(def, owner ? `${created}/{${keyArg}}` : one, created)}): omitted ` +
          `fields go back to their defaults; the id or ${def.graphql.keyName} in \`${keyArg}\` wins over the ` +
          `input's.${owner ? ` One that belongs to another ${ownerParent!.singular} is error code 6.` : ""}`,
        args: { ...ownerArgs(), [keyArg]: key(), input: t.arg({ type: inputs.input, required: true }) },
        resolve: (_root, args, ctx) =>
          write(e, ctx, async () =>
            repo(ctx).upsert(args[keyArg] as string, toWire(e, args.input as Row), await scope(ctx, args)),
          ),
      }),
      [`delete${type}`]: t.id({
        nullable: true,
        description: `Delete ${a(type)} (REST: \`DELETE ${one}\`). Answers the deleted id, or null when there was none.${deleteNote(def)}`,
        args: { [keyArg]: key() },
        resolve: (_root, args, ctx) =>
          write(e, ctx, async () => (await repo(ctx).delete(args[keyArg] as string))?.id ?? null),
      }),
    };
  });
}

for (const e of ENTITY_GRAPHQL.values()) {
  implementObject(e);
  operations(e, inputTypes(e));
}
