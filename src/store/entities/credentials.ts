// The credentials that belong to a consumer (Kong's keyauth_credentials, basicauth_credentials, jwt_secrets,
// acls): nested under `/consumers/{c}/<nestedPath>` and listed at `/<path>`; they go with their consumer.
import {
  aclFields,
  aclSchema,
  basicAuthCredentialFields,
  basicAuthCredentialSchema,
  jwtSecretFields,
  jwtSecretSchema,
  keyAuthCredentialFields,
  keyAuthCredentialSchema,
} from "../../schemas/credentials.ts";
import type { EntityDefinition, ForeignKey } from "../entity-def.ts";

const consumer: ForeignKey = {
  field: "consumer",
  entity: "consumers",
  column: "consumer_id",
  onDelete: "cascade",
};
const timestamps = { unit: "seconds", updatedAt: false } as const;

/** Basic-auth passwords are hashed before they are stored; the clear text is never written. */
async function hashPassword(input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const password = input.password;
  if (typeof password !== "string" || password === "") return input;
  // argon2id at OWASP's minimum profile (19 MiB, 2 passes): strong, yet cheap enough that a login burst
  // does not exhaust memory; the basic-auth plugin also caches verified pairs.
  return {
    ...input,
    password: await Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 }),
  };
}

export const keyauthCredentials: EntityDefinition<"keyauth_credentials"> = {
  name: "keyauth_credentials",
  get schema() {
    return keyAuthCredentialSchema();
  },
  get shape() {
    return keyAuthCredentialFields();
  },
  endpointKey: { field: "key", validate: null },
  foreignKeys: [consumer],
  uniques: [["key"]],
  timestamps,
  secretFields: ["key"],
  generatedFields: ["key"],
  admin: { path: "key-auths", nestedPath: "key-auth", topLevel: true },
  graphql: {
    type: "KeyAuth",
    keyArg: "idOrKey",
    keyName: "key",
    description: "An API key of a consumer (Kong's keyauth_credentials), checked by the key-auth plugin.",
  },
  snapshot: true,
};

export const basicauthCredentials: EntityDefinition<"basicauth_credentials"> = {
  name: "basicauth_credentials",
  get schema() {
    return basicAuthCredentialSchema();
  },
  get shape() {
    return basicAuthCredentialFields();
  },
  endpointKey: { field: "username", validate: null },
  foreignKeys: [consumer],
  uniques: [["username"]],
  timestamps,
  hashedFields: ["password"],
  prepare: hashPassword,
  admin: { path: "basic-auths", nestedPath: "basic-auth", topLevel: true },
  graphql: {
    type: "BasicAuth",
    keyArg: "idOrKey",
    keyName: "username",
    description: "A username and password of a consumer (Kong's basicauth_credentials), for basic-auth.",
  },
  snapshot: true,
};

export const jwtSecrets: EntityDefinition<"jwt_secrets"> = {
  name: "jwt_secrets",
  get schema() {
    return jwtSecretSchema();
  },
  get shape() {
    return jwtSecretFields();
  },
  endpointKey: { field: "key", validate: null },
  foreignKeys: [consumer],
  uniques: [["key"]],
  timestamps,
  // The HMAC secret signs tokens: never echoed in errors or plans. The key is the token's `iss`, not a secret.
  secretFields: ["secret"],
  generatedFields: ["key", "secret"],
  admin: { path: "jwts", nestedPath: "jwt", topLevel: true },
  graphql: {
    type: "JwtSecret",
    keyArg: "idOrKey",
    keyName: "key",
    description: "A JWT issuer key of a consumer (Kong's jwt_secrets), for the jwt plugin.",
  },
  snapshot: true,
};

export const acls: EntityDefinition<"acls"> = {
  name: "acls",
  get schema() {
    return aclSchema();
  },
  get shape() {
    return aclFields();
  },
  endpointKey: { field: "group", validate: null },
  foreignKeys: [consumer],
  uniques: [["consumer", "group"]],
  timestamps,
  endpointKeyScope: "consumer",
  admin: { path: "acls", topLevel: true },
  graphql: {
    type: "Acl",
    keyArg: "idOrKey",
    keyName: "group",
    description: "A group a consumer belongs to (Kong's acls), for the acl plugin.",
  },
  snapshot: true,
};
