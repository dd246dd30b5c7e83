// Plugin: type, inputs, queries and mutations, the `Service.plugins`, `Route.plugins` and
// `Consumer.plugins` links, `enabledPlugins` and `pluginSchema`. A plugin's `config` is opaque JSON with the
// plugin's own (snake_case) keys: the plugin's zod schema in the store validates it, fills in its defaults
// and reports errors as `config.<key>`, exactly as over REST. An update merges `config` key by key (Kong).
import { z } from "zod";
import { GatewayError } from "../../errors.ts";
import { PLUGIN_CATALOG } from "../../plugins/catalog.ts";
import { validateName } from "../../schemas/common.ts";
import { type Plugin, pluginSchema } from "../../schemas/plugins.ts";
import type { EntityRepository } from "../../store/contract.ts";
import { ENTITIES } from "../../store/entities/index.ts";
import { builder, type GraphqlContext, type InputFields } from "./builder.ts";
import { ConsumerObject } from "./consumers.ts";
import { JsonScalar } from "./json.ts";
import { loadPage, pageArgs, pageType } from "./pagination.ts";
import { RouteObject, ServiceReferenceInput } from "./routes.ts";
import { Protocol, ServiceObject } from "./services.ts";
import { inputCheck, keyCheck, upsertBody } from "./validation.ts";
import { toWire } from "./wire.ts";

/** `idOrName` of a plugin: its id or its instance name. */
const pluginKeyCheck = keyCheck(ENTITIES.plugins);

export const PluginObject = builder.objectRef<Plugin>("Plugin").implement({
  description:
    "A configured plugin (Kong's plugin): global, or scoped to a service, a route, a consumer or a " +
    "combination. Field rules are those of REST's `/plugins`.",
  fields: (t) => ({
    id: t.exposeID("id"),
    createdAt: t.exposeInt("created_at", { description: "Unix time, seconds." }),
    updatedAt: t.exposeInt("updated_at", { description: "Unix time, seconds." }),
    name: t.exposeString("name", { description: "Which plugin (see `enabledPlugins`)." }),
    instanceName: t.exposeString("instance_name", { nullable: true }),
    config: t.field({
      type: JsonScalar,
      description: "The plugin's settings with its defaults filled in, keyed as the plugin names them.",
      resolve: (p) => p.config,
    }),
    protocols: t.field({ type: [Protocol], resolve: (p) => p.protocols }),
    enabled: t.exposeBoolean("enabled"),
    tags: t.stringList({ nullable: true, resolve: (p) => p.tags }),
    service: t.field({
      type: ServiceObject,
      nullable: true,
      resolve: (p, _args, ctx) => (p.service ? ctx.services.load(p.service.id) : null),
    }),
    route: t.field({
      type: RouteObject,
      nullable: true,
      resolve: (p, _args, ctx) => (p.route ? ctx.routes.load(p.route.id) : null),
    }),
    consumer: t.field({
      type: ConsumerObject,
      nullable: true,
      resolve: (p, _args, ctx) => (p.consumer ? ctx.consumers.load(p.consumer.id) : null),
    }),
  }),
});

export const PluginPage = pageType("PluginPage", PluginObject, "One page of plugins.");

const scopedPlugins = (key: "service" | "route" | "consumer", rest: string) => ({
  type: PluginPage,
  description: `The plugins scoped to this ${key} (REST: \`GET ${rest}\`).`,
  args: pageArgs,
});

builder.objectField(ServiceObject, "plugins", (t) =>
  t.field({
    ...scopedPlugins("service", "/services/{idOrName}/plugins"),
    resolve: (service, args, ctx) =>
      loadPage(ctx.admin.store.entity("plugins"), args, { service: service.id }),
  }),
);
builder.objectField(RouteObject, "plugins", (t) =>
  t.field({
    ...scopedPlugins("route", "/routes/{idOrName}/plugins"),
    resolve: (route, args, ctx) => loadPage(ctx.admin.store.entity("plugins"), args, { route: route.id }),
  }),
);
builder.objectField(ConsumerObject, "plugins", (t) =>
  t.field({
    ...scopedPlugins("consumer", "/consumers/{idOrName}/plugins"),
    resolve: (consumer, args, ctx) =>
      loadPage(ctx.admin.store.entity("plugins"), args, { consumer: consumer.id }),
  }),
);

const RouteReferenceInput = builder.inputType("RouteReferenceInput", {
  description: "A plugin's route, by `id` or by `name`.",
  fields: (t) => ({ id: t.id(), name: t.string() }),
});

const ConsumerReferenceInput = builder.inputType("ConsumerReferenceInput", {
  description: "A plugin's consumer, by `id` or by `username`.",
  fields: (t) => ({ id: t.id(), username: t.string() }),
});

const writableFields = (t: InputFields) => ({
  name: t.string({ description: "Which plugin (see `enabledPlugins`)." }),
  instanceName: t.string(),
  config: t.field({
    type: JsonScalar,
    description:
      "The plugin's settings, keyed as the plugin names them (`{hide_credentials: true}`); omitted " +
      "settings take their defaults. On update, only the settings given change.",
  }),
  protocols: t.field({ type: [Protocol] }),
  enabled: t.boolean(),
  tags: t.stringList(),
  service: t.field({ type: ServiceReferenceInput }),
  route: t.field({ type: RouteReferenceInput }),
  consumer: t.field({ type: ConsumerReferenceInput }),
});

export const PluginInput = builder.inputType("PluginInput", {
  description: "A whole plugin (create, or Kong's PUT: omitted fields go back to their defaults).",
  fields: (t) => ({
    id: t.id({ description: "Chosen by the client on create; generated when absent." }),
    ...writableFields(t),
  }),
});

export const PluginUpdateInput = builder.inputType("PluginUpdateInput", {
  description:
    "A partial update (Kong's PATCH): only the fields given change, `config` is merged key by key; " +
    "`null` clears an optional field.",
  fields: writableFields,
});

type ConsumerRef = { id?: string | null; username?: string | null };

/** Stands for a consumer named by username while the input is checked (only its shape matters there). */
const CHECKED_CONSUMER = { id: "00000000-0000-4000-8000-000000000000" };

/**
 * A consumer reference on the wire: `{id}` as is, `{}` stays `{}` (Kong's "required field missing"), and a
 * username becomes the store's `{name}` reference (resolved by username, like REST's) — unless it is not
 * name-shaped (usernames are any text): then undefined, and `pluginBody` resolves it itself.
 */
function consumerRefToWire(ref: ConsumerRef): Record<string, unknown> | undefined {
  if (ref.id !== undefined && ref.id !== null) return { id: ref.id };
  if (ref.username === undefined || ref.username === null) return {};
  return validateName(ref.username) === null ? { name: ref.username } : undefined;
}

/** The wire body of a plugin input, as the input check sees it. */
function pluginToWire(input: Record<string, unknown>): Record<string, unknown> {
  const body = toWire(input);
  const consumer = input.consumer as ConsumerRef | null | undefined;
  if (consumer) body.consumer = consumerRefToWire(consumer) ?? CHECKED_CONSUMER;
  return body;
}

/**
 * The body the store gets. A username the store cannot take as a reference is looked up here; one that
 * names no consumer is the store's own "foreign keys unresolved" error (code 13), in the same words.
 */
async function pluginBody(ctx: GraphqlContext, input: Record<string, unknown>) {
  const body = toWire(input);
  const consumer = input.consumer as ConsumerRef | null | undefined;
  if (!consumer) return body;
  const ref = consumerRefToWire(consumer);
  if (ref) {
    body.consumer = ref;
    return body;
  }
  const username = consumer.username as string;
  const found = await ctx.admin.store
    .entity("consumers")
    .get(username)
    .catch(() => null);
  if (!found) {
    const message = `the foreign key cannot be resolved with '{username="${username}"}' for an existing 'consumers' entity`;
    throw new GatewayError("FOREIGN_KEYS_UNRESOLVED", message, { consumer: { username: message } });
  }
  body.consumer = { id: found.id };
  return body;
}

type InputArgs = { input: Record<string, unknown> };
type KeyedInputArgs = InputArgs & { idOrName: string };

const PluginSchemaObject = builder
  .objectRef<{ name: string; priority: number; version: string; config: unknown }>("PluginSchema")
  .implement({
    description:
      "A bundled plugin: its priority and the JSON Schema of its config (REST: `/schemas/plugins/{name}`).",
    fields: (t) => ({
      name: t.exposeString("name"),
      priority: t.exposeInt("priority", { description: "Higher runs first (Kong's bundled priorities)." }),
      version: t.exposeString("version"),
      config: t.field({
        type: JsonScalar,
        description: "JSON Schema of `config`.",
        resolve: (s) => s.config,
      }),
    }),
  });

builder.queryFields((t) => ({
  plugins: t.field({
    type: PluginPage,
    description: "Plugins, ordered by id (REST: `GET /plugins`).",
    args: pageArgs,
    resolve: (_root, args, ctx) => loadPage(ctx.admin.store.entity("plugins"), args),
  }),
  plugin: t.field({
    type: PluginObject,
    nullable: true,
    description: "One plugin by id or instance name; null when there is none.",
    args: { idOrName: t.arg.string({ required: true, validate: pluginKeyCheck }) },
    resolve: (_root, { idOrName }, ctx) => ctx.admin.store.entity("plugins").get(idOrName),
  }),
  enabledPlugins: t.stringList({
    description: "The plugins this gateway bundles, by name (REST: `GET /plugins/enabled`).",
    resolve: () => [...PLUGIN_CATALOG.keys()].sort(),
  }),
  pluginSchema: t.field({
    type: PluginSchemaObject,
    nullable: true,
    description: "A bundled plugin's config schema; null for a name that is not bundled.",
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }) => {
      const descriptor = PLUGIN_CATALOG.get(name);
      if (!descriptor) return null;
      const { priority, version, config } = descriptor;
      return {
        name,
        priority,
        version,
        config: z.toJSONSchema(config, { io: "input", unrepresentable: "any" }),
      };
    },
  }),
}));

const plugins = (ctx: GraphqlContext): EntityRepository<Plugin> => ctx.admin.store.entity("plugins");

builder.mutationFields((t) => ({
  addPlugin: t.field({
    type: PluginObject,
    description:
      "Configure a plugin (REST: `POST /plugins`, or `POST /services/{s}/plugins` with `service` set). " +
      "One plugin of a name per scope (code 5).",
    args: { input: t.arg({ type: PluginInput, required: true }) },
    validate: inputCheck<InputArgs>(pluginSchema, ({ input }) => pluginToWire(input)),
    resolve: async (_root, { input }, ctx) => plugins(ctx).insert(await pluginBody(ctx, input)),
  }),
  updatePlugin: t.field({
    type: PluginObject,
    description:
      "Change some fields of a plugin (REST: `PATCH /plugins/{idOrName}`): `config` is merged key by key, " +
      "then the plugin is validated as a whole; a missing plugin is error code 6.",
    args: {
      idOrName: t.arg.string({ required: true, validate: pluginKeyCheck }),
      input: t.arg({ type: PluginUpdateInput, required: true }),
    },
    resolve: async (_root, { idOrName, input }, ctx) =>
      plugins(ctx).update(idOrName, await pluginBody(ctx, input)),
  }),
  upsertPlugin: t.field({
    type: PluginObject,
    description:
      "Create or fully replace a plugin (REST: `PUT /plugins/{idOrName}`): omitted fields and settings go " +
      "back to their defaults; the id or instance name in `idOrName` wins over the input's.",
    args: {
      idOrName: t.arg.string({ required: true, validate: pluginKeyCheck }),
      input: t.arg({ type: PluginInput, required: true }),
    },
    validate: inputCheck<KeyedInputArgs>(pluginSchema, ({ idOrName, input }) =>
      upsertBody(ENTITIES.plugins, idOrName, pluginToWire(input)),
    ),
    resolve: async (_root, { idOrName, input }, ctx) =>
      plugins(ctx).upsert(idOrName, await pluginBody(ctx, input)),
  }),
  deletePlugin: t.id({
    nullable: true,
    description:
      "Remove a plugin (REST: `DELETE /plugins/{idOrName}`). Answers the deleted id, or null when there was none.",
    args: { idOrName: t.arg.string({ required: true, validate: pluginKeyCheck }) },
    resolve: async (_root, { idOrName }, ctx) => (await plugins(ctx).delete(idOrName))?.id ?? null,
  }),
}));
