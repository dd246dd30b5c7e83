// Consumer: type, inputs, queries and mutations. A consumer is named by its `username` (Kong's endpoint
// key: any text) or its id; the rules (at least one of username / customId, each unique) are the zod
// schema's, as over REST's `/consumers`. Its plugins and credentials are linked in plugins.ts and
// credentials.ts.
import { type Consumer, consumerSchema } from "../../schemas/consumers.ts";
import { ENTITY_DEFS } from "../../store/entities.ts";
import { builder, type InputFields } from "./builder.ts";
import { loadPage, pageArgs, pageType } from "./pagination.ts";
import { inputCheck, keyCheck, upsertBody } from "./validation.ts";
import { toWire } from "./wire.ts";

/** `idOrName` of a consumer: its id or its username. */
export const consumerKeyCheck = keyCheck(ENTITY_DEFS.consumers);

export const ConsumerObject = builder.objectRef<Consumer>("Consumer").implement({
  description: "Who calls the API (Kong's consumer). Field rules are those of REST's `/consumers`.",
  fields: (t) => ({
    id: t.exposeID("id"),
    createdAt: t.exposeInt("created_at", { description: "Unix time, seconds." }),
    updatedAt: t.exposeInt("updated_at", { description: "Unix time, seconds." }),
    username: t.exposeString("username", { nullable: true }),
    customId: t.exposeString("custom_id", { nullable: true }),
    tags: t.stringList({ nullable: true, resolve: (c) => c.tags }),
  }),
});

export const ConsumerPage = pageType("ConsumerPage", ConsumerObject, "One page of consumers.");

const writableFields = (t: InputFields) => ({
  username: t.string(),
  customId: t.string(),
  tags: t.stringList(),
});

export const ConsumerInput = builder.inputType("ConsumerInput", {
  description: "A whole consumer (create, or Kong's PUT: omitted fields go back to their defaults).",
  fields: (t) => ({
    id: t.id({ description: "Chosen by the client on create; generated when absent." }),
    ...writableFields(t),
  }),
});

export const ConsumerUpdateInput = builder.inputType("ConsumerUpdateInput", {
  description:
    "A partial update (Kong's PATCH): only the fields given change; `null` clears an optional field.",
  fields: writableFields,
});

type InputArgs = { input: Record<string, unknown> };
type KeyedInputArgs = InputArgs & { idOrName: string };

builder.queryFields((t) => ({
  consumers: t.field({
    type: ConsumerPage,
    description: "Consumers, ordered by id (REST: `GET /consumers`).",
    args: pageArgs,
    resolve: (_root, args, ctx) => loadPage(ctx.admin.store.consumers, args),
  }),
  consumer: t.field({
    type: ConsumerObject,
    nullable: true,
    description: "One consumer by id or username; null when there is none.",
    args: { idOrName: t.arg.string({ required: true, validate: consumerKeyCheck }) },
    resolve: (_root, { idOrName }, ctx) => ctx.admin.store.consumers.get(idOrName),
  }),
}));

builder.mutationFields((t) => ({
  addConsumer: t.field({
    type: ConsumerObject,
    description: "Create a consumer (REST: `POST /consumers`).",
    args: { input: t.arg({ type: ConsumerInput, required: true }) },
    validate: inputCheck<InputArgs>(consumerSchema, ({ input }) => toWire(input)),
    resolve: (_root, { input }, ctx) => {
      ctx.consumers.clear();
      return ctx.admin.store.consumers.insert(toWire(input));
    },
  }),
  updateConsumer: t.field({
    type: ConsumerObject,
    description:
      "Change some fields of a consumer (REST: `PATCH /consumers/{idOrName}`). The merged consumer is " +
      "validated as a whole; a missing consumer is error code 6.",
    args: {
      idOrName: t.arg.string({ required: true, validate: consumerKeyCheck }),
      input: t.arg({ type: ConsumerUpdateInput, required: true }),
    },
    resolve: (_root, { idOrName, input }, ctx) => {
      ctx.consumers.clear();
      return ctx.admin.store.consumers.update(idOrName, toWire(input));
    },
  }),
  upsertConsumer: t.field({
    type: ConsumerObject,
    description:
      "Create or fully replace a consumer (REST: `PUT /consumers/{idOrName}`): omitted fields go back to " +
      "their defaults; the id or username in `idOrName` wins over the input's.",
    args: {
      idOrName: t.arg.string({ required: true, validate: consumerKeyCheck }),
      input: t.arg({ type: ConsumerInput, required: true }),
    },
    validate: inputCheck<KeyedInputArgs>(consumerSchema, ({ idOrName, input }) =>
      upsertBody(ENTITY_DEFS.consumers, idOrName, toWire(input)),
    ),
    resolve: (_root, { idOrName, input }, ctx) => {
      ctx.consumers.clear();
      return ctx.admin.store.consumers.upsert(idOrName, toWire(input));
    },
  }),
  deleteConsumer: t.id({
    nullable: true,
    description:
      "Delete a consumer (REST: `DELETE /consumers/{idOrName}`) with its credentials and the plugins " +
      "scoped to it. Answers the deleted id, or null when there was none.",
    args: { idOrName: t.arg.string({ required: true, validate: consumerKeyCheck }) },
    resolve: async (_root, { idOrName }, ctx) => {
      ctx.consumers.clear();
      return (await ctx.admin.store.consumers.delete(idOrName))?.id ?? null;
    },
  }),
}));
