// The fields every top-level entity has — a page query, a single query by key, and the add / update / upsert /
// delete mutations — generated from one description, so services, routes and consumers answer alike and cannot
// drift apart. Entity modules keep their object and input types, their links and their wire mapping.
import type { InputObjectRef, ObjectRef } from "@pothos/core";
import type { z } from "zod";
import type { EntityRepository } from "../../store/contract.ts";
import type { EntityDefinition } from "../../store/entity-def.ts";
import { type BuilderTypes, builder, type GraphqlContext } from "./builder.ts";
import type { EntityLoader } from "./loaders.ts";
import { loadPage, type PageResult, pageArgs } from "./pagination.ts";
import { inputCheck, upsertBody } from "./validation.ts";

type Input = Record<string, unknown>;
/** What the generated fields need to know of an entity; Pothos cannot resolve its output types for a bare
 * type parameter, so the refs are typed with this and the repository keeps the precise type. */
type Entity = { id: string };
type InputArgs = { input: Input };
type KeyedInputArgs = InputArgs & { idOrName: string };

export type CrudSpec<E extends Entity> = {
  /** As in the REST paths, lower case: `service` / `services`. */
  singular: string;
  plural: string;
  /** What besides the id names one (Kong's endpoint key): `name`, `username`. */
  keyName: string;
  object: ObjectRef<BuilderTypes, Entity>;
  page: ObjectRef<BuilderTypes, PageResult<Entity>>;
  /** The whole entity (create and Kong's PUT) and a partial one (Kong's PATCH). */
  input: InputObjectRef<BuilderTypes, Input>;
  updateInput: InputObjectRef<BuilderTypes, Input>;
  /** The zod schema REST validates with: GraphQL accepts exactly what REST accepts. */
  schema: z.ZodType;
  def: EntityDefinition;
  /** Checks an `idOrName` argument. */
  keyCheck: z.ZodType<string>;
  repository: (ctx: GraphqlContext) => EntityRepository<E>;
  /** The per-request cache a write must clear. */
  loader: (ctx: GraphqlContext) => EntityLoader<E>;
  /** GraphQL input → the REST body (snake_case keys and any entity-specific shape). */
  toWire: (input: Input) => Input;
  /** What follows "Delete a … (REST: `DELETE …`)." in deleteX's description. */
  deleteNote: string;
};

const capitalised = (word: string) => word[0]!.toUpperCase() + word.slice(1);

export function addCrudFields<E extends Entity>(spec: CrudSpec<E>): void {
  const { singular, plural, keyName, object, toWire, keyCheck } = spec;
  const Singular = capitalised(singular);
  const rest = `/${plural}/{idOrName}`;

  builder.queryFields((t) => ({
    [plural]: t.field({
      type: spec.page,
      description: `${capitalised(plural)}, ordered by id (REST: \`GET /${plural}\`).`,
      args: pageArgs,
      resolve: (_root, args, ctx): Promise<PageResult<Entity>> => loadPage(spec.repository(ctx), args),
    }),
    [singular]: t.field({
      type: object,
      nullable: true,
      description: `One ${singular} by id or ${keyName}; null when there is none.`,
      args: { idOrName: t.arg.string({ required: true, validate: keyCheck }) },
      resolve: (_root, { idOrName }, ctx): Promise<Entity | null> => spec.repository(ctx).get(idOrName),
    }),
  }));

  builder.mutationFields((t) => ({
    [`add${Singular}`]: t.field({
      type: object,
      description: `Create a ${singular} (REST: \`POST /${plural}\`).`,
      args: { input: t.arg({ type: spec.input, required: true }) },
      validate: inputCheck<InputArgs>(spec.schema, ({ input }) => toWire(input)),
      resolve: (_root, { input }, ctx): Promise<Entity> => {
        spec.loader(ctx).clear();
        return spec.repository(ctx).insert(toWire(input));
      },
    }),
    [`update${Singular}`]: t.field({
      type: object,
      description:
        `Change some fields of a ${singular} (REST: \`PATCH ${rest}\`). The merged ${singular} is ` +
        `validated as a whole; a missing ${singular} is error code 6.`,
      args: {
        idOrName: t.arg.string({ required: true, validate: keyCheck }),
        input: t.arg({ type: spec.updateInput, required: true }),
      },
      resolve: (_root, { idOrName, input }, ctx): Promise<Entity> => {
        spec.loader(ctx).clear();
        return spec.repository(ctx).update(idOrName, toWire(input));
      },
    }),
    [`upsert${Singular}`]: t.field({
      type: object,
      description:
        `Create or fully replace a ${singular} (REST: \`PUT ${rest}\`): omitted fields go back to ` +
        `their defaults; the id or ${keyName} in \`idOrName\` wins over the input's.`,
      args: {
        idOrName: t.arg.string({ required: true, validate: keyCheck }),
        input: t.arg({ type: spec.input, required: true }),
      },
      validate: inputCheck<KeyedInputArgs>(spec.schema, ({ idOrName, input }) =>
        upsertBody(spec.def, idOrName, toWire(input)),
      ),
      resolve: (_root, { idOrName, input }, ctx): Promise<Entity> => {
        spec.loader(ctx).clear();
        return spec.repository(ctx).upsert(idOrName, toWire(input));
      },
    }),
    [`delete${Singular}`]: t.id({
      nullable: true,
      description: `Delete a ${singular} (REST: \`DELETE ${rest}\`)${spec.deleteNote}`,
      args: { idOrName: t.arg.string({ required: true, validate: keyCheck }) },
      resolve: async (_root, { idOrName }, ctx) => {
        spec.loader(ctx).clear();
        return (await spec.repository(ctx).delete(idOrName))?.id ?? null;
      },
    }),
  }));
}
