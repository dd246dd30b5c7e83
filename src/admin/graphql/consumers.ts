// Consumer: type, inputs, queries and mutations. A consumer is named by its `username` (Kong's endpoint
// key: any text) or its id; the rules (at least one of username / customId, each unique) are the zod
// schema's, as over REST's `/consumers`. Its plugins and credentials are linked in plugins.ts and
// credentials.ts.
import { type Consumer, consumerSchema } from "../../schemas/consumers.ts";
import { ENTITIES } from "../../store/entities/index.ts";
import { builder, type InputFields } from "./builder.ts";
import { addCrudFields } from "./crud.ts";
import { pageType } from "./pagination.ts";
import { keyCheck } from "./validation.ts";
import { toWire } from "./wire.ts";

/** `idOrName` of a consumer: its id or its username. */
export const consumerKeyCheck = keyCheck(ENTITIES.consumers);

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

addCrudFields({
  singular: "consumer",
  plural: "consumers",
  keyName: "username",
  object: ConsumerObject,
  page: ConsumerPage,
  input: ConsumerInput,
  updateInput: ConsumerUpdateInput,
  schema: consumerSchema,
  def: ENTITIES.consumers,
  keyCheck: consumerKeyCheck,
  repository: (ctx) => ctx.admin.store.entity("consumers"),
  loader: (ctx) => ctx.consumers,
  toWire,
  deleteNote:
    " with its credentials and the plugins scoped to it. Answers the deleted id, or null when there was none.",
});
