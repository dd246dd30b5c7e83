// Certificates, SNIs and CA certificates (kong/db/schema/entities/certificates.lua, snis.lua,
// ca_certificates.lua): PEM read with node:crypto, Kong's entity checks and messages. A private key is
// never part of a message.
import { z } from "zod";
import { nullable, refineWith, tags, timestamp, typeError, uuid } from "./common.ts";
import { validateSni } from "./http-names.ts";
import { lazy } from "./lazy.ts";
import { keyMatches, readCertificate, readPrivateKey } from "./pem.ts";

const pemText = lazy(() => z.string({ error: typeError("expected a string") }));

const certificatePem = lazy(() =>
  pemText()
    .superRefine(
      refineWith((value: string) => {
        const read = readCertificate(value);
        return typeof read === "string" ? read : null;
      }),
    )
    .meta({ description: "A PEM certificate, optionally followed by its chain." }),
);

const keyPem = lazy(() =>
  pemText()
    .superRefine(
      refineWith((value: string) => {
        const read = readPrivateKey(value);
        return typeof read === "string" ? read : null;
      }),
    )
    .meta({ description: "A PEM private key. Never shown in error messages." }),
);

export const certificateFields = lazy(() => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  cert: certificatePem(),
  key: keyPem(),
  cert_alt: nullable(certificatePem()),
  key_alt: nullable(keyPem()),
  tags: tags(),
}));

/** Kong's message when both are certificates of one key type. */
export const SAME_KEY_TYPE =
  "certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided " +
  "certificates were both of the same type";

export const certificateSchema = lazy(() =>
  z.strictObject(certificateFields(), { error: "expected a record" }).superRefine((entity, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: "custom", path: ["@entity"], message });
    if ((entity.cert_alt === null) !== (entity.key_alt === null))
      fail("all or none of these fields must be set: 'cert_alt', 'key_alt'");
    const cert = readCertificate(entity.cert);
    const key = readPrivateKey(entity.key);
    if (typeof cert !== "string" && typeof key !== "string" && !keyMatches(cert, key))
      fail("certificate does not match key");
    if (entity.cert_alt === null || entity.key_alt === null) return;
    const certAlt = readCertificate(entity.cert_alt);
    const keyAlt = readPrivateKey(entity.key_alt);
    if (typeof certAlt !== "string" && typeof keyAlt !== "string" && !keyMatches(certAlt, keyAlt))
      fail("alternative certificate does not match key");
    if (
      typeof cert !== "string" &&
      typeof certAlt !== "string" &&
      cert.publicKey.asymmetricKeyType === certAlt.publicKey.asymmetricKeyType
    )
      fail(SAME_KEY_TYPE);
  }),
);

export type Certificate = Omit<
  z.output<ReturnType<typeof certificateSchema>>,
  "id" | "created_at" | "updated_at"
> & {
  id: string;
  created_at: number;
  updated_at: number;
};

/** Kong's wildcard_host: one `*`, leftmost or rightmost, never an IP address or a port. */
export function validateWildcardHost(value: string): string | null {
  if (value === "") return "length must be at least 1";
  const star = value.indexOf("*");
  if (star >= 0) {
    if (star !== 0 && star !== value.length - 1) return "wildcard must be leftmost or rightmost character";
    if (value.indexOf("*", star + 1) >= 0) return "only one wildcard must be specified";
  }
  const invalid = validateSni(value.replace("*", "wildcard"));
  return invalid?.startsWith("invalid value: ")
    ? `invalid value: ${value.replace("*", "wildcard")}`
    : invalid;
}

export const sniFields = lazy(() => ({
  id: uuid().optional(),
  name: z
    .string({ error: typeError("expected a string") })
    .superRefine(refineWith(validateWildcardHost))
    .transform((v) => v.toLowerCase())
    .meta({ description: "A host name, with at most one `*` as its first or last label." }),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  tags: tags(),
  certificate: z
    .strictObject({ id: uuid() }, { error: typeError("expected a record") })
    .meta({ graphql: "CertificateReference", description: "A certificate, by id." }),
}));

export const sniSchema = lazy(() => z.strictObject(sniFields(), { error: "expected a record" }));

export type Sni = Omit<
  z.output<ReturnType<typeof sniSchema>>,
  "id" | "created_at" | "updated_at" | "certificate"
> & {
  id: string;
  created_at: number;
  updated_at: number;
  certificate: { id: string };
};

const CERT_TAG = "-----BEGIN CERTIFICATE-----";

export const caCertificateFields = lazy(() => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  cert: certificatePem(),
  cert_digest: nullable(z.string({ error: typeError("expected a string") })).meta({
    description: "The SHA-256 digest of the certificate (hex), computed when it is written.",
  }),
  tags: tags(),
}));

export const caCertificateSchema = lazy(() =>
  z
    .strictObject(caCertificateFields(), { error: "expected a record" })
    .superRefine((entity, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: "custom", path: ["@entity"], message });
      const first = entity.cert.indexOf(CERT_TAG);
      if (first >= 0 && entity.cert.indexOf(CERT_TAG, first + CERT_TAG.length + 1) >= 0)
        return fail("please submit only one certificate at a time");
      const cert = readCertificate(entity.cert);
      if (typeof cert === "string") return;
      if (cert.validToDate.getTime() < Date.now())
        return fail('certificate expired, "Not After" time is in the past');
      if (!cert.ca)
        fail('certificate does not appear to be a CA because it is missing the "CA" basic constraint');
    })
    .transform((entity) => {
      // Kong's on_write transformation: the digest always follows the certificate.
      const cert = readCertificate(entity.cert);
      if (typeof cert === "string") return entity;
      return { ...entity, cert_digest: cert.fingerprint256.replaceAll(":", "").toLowerCase() };
    }),
);

export type CaCertificate = Omit<
  z.output<ReturnType<typeof caCertificateSchema>>,
  "id" | "created_at" | "updated_at"
> & {
  id: string;
  created_at: number;
  updated_at: number;
};
