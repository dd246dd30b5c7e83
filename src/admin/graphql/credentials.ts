// Credentials that belong to a consumer: key-auth keys, basic-auth users, JWT secrets and ACL groups
// (REST: `/consumers/{c}/key-auth` … and the top-level `/key-auths`, `/basic-auths`, `/jwts`, `/acls`).
// Each kind gets the same operations, named after its type:
//   queries    keyAuths(size, offset, tags, tagsMode), keyAuth(idOrKey)      and Consumer.keyAuths(…)
//   mutations  addKeyAuth(consumer, input), upsertKeyAuth(consumer, idOrKey, input),
//              updateKeyAuth(idOrKey, input), deleteKeyAuth(idOrKey)
// `consumer` is the owner's id or username; `idOrKey` is the credential's id or its endpoint key (the key,
// the basic-auth username, the JWT key, the ACL group). A basic-auth password is hashed before it is
// stored: GraphQL, like REST, only ever shows the hash.
import type { ObjectRef } from "@pothos/core";
import type { z } from "zod";
import { GatewayError } from "../../errors.ts";
import {
  type Acl,
  aclSchema,
  type BasicAuthCredential,
  basicAuthCredentialSchema,
  JWT_ALGORITHMS,
  type JwtSecret,
  jwtSecretSchema,
  type KeyAuthCredential,
  keyAuthCredentialSchema,
} from "../../schemas/credentials.ts";
import type { EntityRepository } from "../../store/contract.ts";
import { ENTITIES } from "../../store/entities/index.ts";
import { describeKey, parseEntityKey } from "../../store/entity-def.ts";
import { type BuilderTypes, builder, type GraphqlContext, type InputFields } from "./builder.ts";
import { ConsumerObject, consumerKeyCheck } from "./consumers.ts";
import { loadPage, pageArgs, pageType } from "./pagination.ts";
import { inputCheck, keyCheck, upsertBody } from "./validation.ts";
import { toWire } from "./wire.ts";

type CredentialEntity = "keyauth_credentials" | "basicauth_credentials" | "jwt_secrets" | "acls";
type Credential = { id: string; created_at: number; consumer: { id: string }; tags: string[] | null };

/** Common output fields: id, createdAt, tags and the owning consumer. */
function commonFields<C extends Credential>(t: PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, C>) {
  return {
    id: t.id({ resolve: (c) => c.id }),
    createdAt: t.int({ description: "Unix time, seconds.", resolve: (c) => c.created_at }),
    tags: t.stringList({ nullable: true, resolve: (c) => c.tags }),
    consumer: t.field({
      type: ConsumerObject,
      nullable: true,
      description: "The consumer this credential belongs to.",
      resolve: (c, _args, ctx) => ctx.consumers.load(c.consumer.id),
    }),
  };
}

const KeyAuthObject = builder.objectRef<KeyAuthCredential>("KeyAuth").implement({
  description: "An API key of a consumer (Kong's keyauth_credentials), checked by the key-auth plugin.",
  fields: (t) => ({
    ...commonFields(t),
    key: t.exposeString("key"),
    ttl: t.exposeInt("ttl", { nullable: true, description: "Seconds the key is valid after its creation." }),
  }),
});

const BasicAuthObject = builder.objectRef<BasicAuthCredential>("BasicAuth").implement({
  description: "A username and password of a consumer (Kong's basicauth_credentials), for basic-auth.",
  fields: (t) => ({
    ...commonFields(t),
    username: t.exposeString("username"),
    password: t.exposeString("password", {
      description: "The stored argon2id hash, as REST shows it; the clear password is never stored.",
    }),
  }),
});

const JwtAlgorithm = builder.enumType("JwtAlgorithm", { values: JWT_ALGORITHMS });

const JwtSecretObject = builder.objectRef<JwtSecret>("JwtSecret").implement({
  description: "A JWT issuer key of a consumer (Kong's jwt_secrets), for the jwt plugin.",
  fields: (t) => ({
    ...commonFields(t),
    key: t.exposeString("key", { description: "Matched against the token's key claim (`iss` by default)." }),
    secret: t.exposeString("secret", { description: "The HMAC secret (HS* algorithms)." }),
    rsaPublicKey: t.exposeString("rsa_public_key", {
      nullable: true,
      description: "The PEM public key (RS* and ES* algorithms).",
    }),
    algorithm: t.expose("algorithm", { type: JwtAlgorithm }),
  }),
});

const AclObject = builder.objectRef<Acl>("Acl").implement({
  description: "A group a consumer belongs to (Kong's acls), for the acl plugin.",
  fields: (t) => ({ ...commonFields(t), group: t.exposeString("group") }),
});

type CredentialRef = ObjectRef<BuilderTypes, Credential>;

type Kind = {
  entity: CredentialEntity;
  /** GraphQL type name; operations are named after it (`addKeyAuth`, `keyAuths`, …). */
  type: string;
  object: CredentialRef;
  schema: z.ZodType;
  /** The writable fields (also the update input's). */
  fields: (t: InputFields) => Record<string, PothosSchemaTypes.InputFieldRef<BuilderTypes, unknown>>;
  /** REST's URL segments: `/consumers/{c}/<nested>`, `/<topLevel>`. */
  nested: string;
  topLevel: string;
  /** What the endpoint key is, for descriptions. */
  keyName: string;
};

/** Stands for the owner while an input is checked: the owner itself is looked up by the resolver. */
const CHECKED_CONSUMER = { id: "00000000-0000-4000-8000-000000000000" };

/** The consumer named by a mutation's `consumer` argument; missing → code 6, as a missing entity is. */
async function owner(ctx: GraphqlContext, consumer: string): Promise<string> {
  const found = await ctx.admin.store.entity("consumers").get(consumer);
  if (found) return found.id;
  const key = parseEntityKey(ENTITIES.consumers, consumer);
  throw new GatewayError("NOT_FOUND", `could not find the consumer with '${describeKey(key)}'`, {
    consumer,
  });
}

type InputArgs = { consumer: string; input: Record<string, unknown> };
type KeyedInputArgs = InputArgs & { idOrKey: string };

function registerCredential(kind: Kind): void {
  const def = ENTITIES[kind.entity];
  const repo = (ctx: GraphqlContext) =>
    ctx.admin.store.entity(kind.entity) as unknown as EntityRepository<Credential>;
  const lower = kind.type[0]!.toLowerCase() + kind.type.slice(1);
  const plural = `${lower}s`;
  const idOrKeyCheck = keyCheck(def);
  const page = pageType(`${kind.type}Page`, kind.object, `One page of ${plural}.`);

  const Input = builder.inputType(`${kind.type}Input`, {
    description: `A whole ${kind.type} (create, or Kong's PUT: omitted fields go back to their defaults).`,
    fields: (t) => ({
      id: t.id({ description: "Chosen by the client on create; generated when absent." }),
      ...kind.fields(t),
    }),
  });
  const UpdateInput = builder.inputType(`${kind.type}UpdateInput`, {
    description:
      "A partial update (Kong's PATCH): only the fields given change; `null` clears an optional field.",
    fields: kind.fields,
  });

  builder.objectField(ConsumerObject, plural, (t) =>
    t.field({
      type: page,
      description: `The consumer's ${plural} (REST: \`GET /consumers/{idOrName}/${kind.nested}\`).`,
      args: pageArgs,
      resolve: (consumer, args, ctx) => loadPage(repo(ctx), args, { consumer: consumer.id }),
    }),
  );

  builder.queryFields((t) => ({
    [plural]: t.field({
      type: page,
      description: `Every consumer's ${plural}, ordered by id (REST: \`GET /${kind.topLevel}\`).`,
      args: pageArgs,
      resolve: (_root, args, ctx) => loadPage(repo(ctx), args),
    }),
    [lower]: t.field({
      type: kind.object,
      nullable: true,
      description: `One ${kind.type} by id or ${kind.keyName}; null when there is none.`,
      args: { idOrKey: t.arg.string({ required: true, validate: idOrKeyCheck }) },
      resolve: (_root, { idOrKey }, ctx) => repo(ctx).get(idOrKey),
    }),
  }));

  builder.mutationFields((t) => {
    const consumerArg = () =>
      t.arg.string({
        required: true,
        description: "The owner: a consumer's id or username.",
        validate: consumerKeyCheck,
      });
    return {
      [`add${kind.type}`]: t.field({
        type: kind.object,
        description: `Give a consumer a ${kind.type} (REST: \`POST /consumers/{consumer}/${kind.nested}\`).`,
        args: { consumer: consumerArg(), input: t.arg({ type: Input, required: true }) },
        validate: inputCheck<InputArgs>(kind.schema, ({ input }) => ({
          ...toWire(input),
          consumer: CHECKED_CONSUMER,
        })),
        resolve: async (_root, { consumer, input }, ctx) =>
          repo(ctx).insert(toWire(input), { consumer: await owner(ctx, consumer) }),
      }),
      [`update${kind.type}`]: t.field({
        type: kind.object,
        description:
          `Change some fields of a ${kind.type} (REST: \`PATCH /${kind.topLevel}/{idOrKey}\`); a missing ` +
          "one is error code 6.",
        args: {
          idOrKey: t.arg.string({ required: true, validate: idOrKeyCheck }),
          input: t.arg({ type: UpdateInput, required: true }),
        },
        resolve: (_root, { idOrKey, input }, ctx) => repo(ctx).update(idOrKey, toWire(input)),
      }),
      [`upsert${kind.type}`]: t.field({
        type: kind.object,
        description:
          `Create or fully replace a consumer's ${kind.type} (REST: \`PUT /consumers/{consumer}/` +
          `${kind.nested}/{idOrKey}\`); one that belongs to another consumer is error code 6.`,
        args: {
          consumer: consumerArg(),
          idOrKey: t.arg.string({ required: true, validate: idOrKeyCheck }),
          input: t.arg({ type: Input, required: true }),
        },
        validate: inputCheck<KeyedInputArgs>(kind.schema, ({ idOrKey, input }) =>
          upsertBody(def, idOrKey, { ...toWire(input), consumer: CHECKED_CONSUMER }),
        ),
        resolve: async (_root, { consumer, idOrKey, input }, ctx) =>
          repo(ctx).upsert(idOrKey, toWire(input), { consumer: await owner(ctx, consumer) }),
      }),
      [`delete${kind.type}`]: t.id({
        nullable: true,
        description:
          `Delete a ${kind.type} (REST: \`DELETE /${kind.topLevel}/{idOrKey}\`). Answers the deleted id, ` +
          "or null when there was none.",
        args: { idOrKey: t.arg.string({ required: true, validate: idOrKeyCheck }) },
        resolve: async (_root, { idOrKey }, ctx) => (await repo(ctx).delete(idOrKey))?.id ?? null,
      }),
    };
  });
}

/** The four kinds share every operation; their own fields are on their object types. */
const asCredential = <C extends Credential>(ref: ObjectRef<BuilderTypes, C>) =>
  ref as unknown as CredentialRef;

registerCredential({
  entity: "keyauth_credentials",
  type: "KeyAuth",
  object: asCredential(KeyAuthObject),
  schema: keyAuthCredentialSchema,
  fields: (t) => ({
    key: t.string({ description: "Generated (32 hex characters) when absent." }),
    ttl: t.int({ description: "Seconds the key stays valid; null or absent: forever." }),
    tags: t.stringList(),
  }),
  nested: "key-auth",
  topLevel: "key-auths",
  keyName: "key",
});

registerCredential({
  entity: "basicauth_credentials",
  type: "BasicAuth",
  object: asCredential(BasicAuthObject),
  schema: basicAuthCredentialSchema,
  fields: (t) => ({
    username: t.string(),
    password: t.string({ description: "Clear text here; stored as an argon2id hash." }),
    tags: t.stringList(),
  }),
  nested: "basic-auth",
  topLevel: "basic-auths",
  keyName: "username",
});

registerCredential({
  entity: "jwt_secrets",
  type: "JwtSecret",
  object: asCredential(JwtSecretObject),
  schema: jwtSecretSchema,
  fields: (t) => ({
    key: t.string({ description: "Generated when absent." }),
    secret: t.string({ description: "Generated when absent." }),
    rsaPublicKey: t.string({ description: "Required for RS* and ES* algorithms." }),
    algorithm: t.field({ type: JwtAlgorithm }),
    tags: t.stringList(),
  }),
  nested: "jwt",
  topLevel: "jwts",
  keyName: "key",
});

registerCredential({
  entity: "acls",
  type: "Acl",
  object: asCredential(AclObject),
  schema: aclSchema,
  fields: (t) => ({ group: t.string(), tags: t.stringList() }),
  nested: "acls",
  topLevel: "acls",
  keyName: "group (the first consumer's, when several have it: prefer the id)",
});
