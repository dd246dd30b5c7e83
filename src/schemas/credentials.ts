// Credentials that belong to a consumer: key-auth keys, basic-auth users, JWT secrets and ACL groups
// (Kong's keyauth_credentials, basicauth_credentials, jwt_secrets and acls).
import { z } from "zod";
import {
  foreignRef,
  integer,
  nullable,
  requiredWithDefault,
  tags,
  text,
  timestamp,
  typeError,
  uuid,
} from "./common.ts";
import { lazy } from "./lazy.ts";

/** Kong generates keys and secrets when they are absent: 32 random hex characters. */
export function generateSecret(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

const consumer = lazy(() =>
  foreignRef("username").meta({ description: "The consumer this credential belongs to." }),
);

const base = () => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  consumer: consumer(),
  tags: tags(),
});

export const keyAuthCredentialFields = lazy(() => ({
  ...base(),
  key: text()
    .default(generateSecret)
    .meta({ description: "The API key; generated (32 hex characters) when absent." }),
  /** Seconds the key stays valid after its creation (rendered as stored, not counting down). */
  ttl: nullable(integer(0, 100000000)).meta({
    description: "Seconds the key stays valid after its creation; null: forever.",
  }),
}));
export const keyAuthCredentialSchema = lazy(() =>
  z.strictObject(keyAuthCredentialFields(), {
    error: "expected a record",
  }),
);

export const basicAuthCredentialFields = lazy(() => ({
  ...base(),
  username: text(),
  /** Stored as a Bun.password hash; the clear text never reaches the database. */
  password: text().meta({
    description: "Written in clear text; stored, and shown (as REST shows it), only as its argon2id hash.",
  }),
}));
export const basicAuthCredentialSchema = lazy(() =>
  z.strictObject(basicAuthCredentialFields(), {
    error: "expected a record",
  }),
);

export const JWT_ALGORITHMS = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
] as const;
const ASYMMETRIC = new Set(["RS256", "RS384", "RS512", "ES256", "ES384"]);

export const jwtSecretFields = lazy(() => ({
  ...base(),
  key: text().default(generateSecret).meta({
    description: "Matched against the token's key claim (`iss` by default); generated when absent.",
  }),
  secret: text()
    .default(generateSecret)
    .meta({ description: "The HMAC secret (HS* algorithms); generated when absent." }),
  rsa_public_key: nullable(text()).meta({
    description: "The PEM public key: required for the RS* and ES* algorithms.",
  }),
  algorithm: requiredWithDefault(
    z
      .enum(JWT_ALGORITHMS, { error: typeError(`expected one of: ${JWT_ALGORITHMS.join(", ")}`) })
      .meta({ graphql: "JwtAlgorithm" }),
    "HS256",
  ),
}));
export const jwtSecretSchema = lazy(() =>
  z.strictObject(jwtSecretFields(), { error: "expected a record" }).superRefine((secret, ctx) => {
    if (!ASYMMETRIC.has(secret.algorithm)) return;
    // Kong's conditional entity check: the field's own error plus the entity-level reason. The key must be
    // one the crypto library can load (Kong: openssl), not merely look like PEM.
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", path: ["rsa_public_key"], message });
      ctx.addIssue({
        code: "custom",
        path: ["@entity"],
        message: "failed conditional validation given value of field 'algorithm'",
      });
    };
    if (secret.rsa_public_key === null) fail("required field missing");
    else if (!isPublicKey(secret.rsa_public_key)) fail("invalid key");
  }),
);

function isPublicKey(pem: string): boolean {
  try {
    // Loaded on first use: node:crypto costs about 4 ms of start-up, and only JWT RSA keys need it.
    process.getBuiltinModule("node:crypto").createPublicKey(pem);
    return true;
  } catch {
    return false;
  }
}

export const aclFields = lazy(() => ({
  ...base(),
  group: text(),
}));
export const aclSchema = lazy(() => z.strictObject(aclFields(), { error: "expected a record" }));

type Stored<S extends z.ZodType> = Omit<z.output<S>, "id" | "created_at" | "consumer"> & {
  id: string;
  created_at: number;
  consumer: { id: string };
};

export type KeyAuthCredential = Stored<ReturnType<typeof keyAuthCredentialSchema>>;
export type BasicAuthCredential = Stored<ReturnType<typeof basicAuthCredentialSchema>>;
export type JwtSecret = Stored<ReturnType<typeof jwtSecretSchema>>;
export type Acl = Stored<ReturnType<typeof aclSchema>>;
