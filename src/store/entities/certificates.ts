// Certificates, their SNIs and CA certificates (Kong's certificates, snis and ca_certificates DAOs). SNIs are
// listed at /snis and nested under their certificate (/certificates/{c}/snis), and go with it. Private keys
// are never echoed in error messages.
import {
  caCertificateFields,
  caCertificateSchema,
  certificateFields,
  certificateSchema,
  sniFields,
  sniSchema,
  validateWildcardHost,
} from "../../schemas/certificates.ts";
import type { EntityDefinition } from "../entity-def.ts";

const timestamps = { unit: "seconds", updatedAt: true } as const;

export const certificates: EntityDefinition<"certificates"> = {
  name: "certificates",
  get schema() {
    return certificateSchema();
  },
  get shape() {
    return certificateFields();
  },
  endpointKey: null,
  foreignKeys: [],
  uniques: [],
  timestamps,
  secretFields: ["key", "key_alt"],
  admin: { path: "certificates", topLevel: true },
  graphql: {
    type: "Certificate",
    keyArg: "id",
    keyName: "id",
    description:
      "A TLS certificate and its key (Kong's certificate), served to clients whose SNI names one of its " +
      "SNIs, or used as a service's client certificate. Field rules are those of REST's `/certificates`.",
  },
  snapshot: true,
};

export const snis: EntityDefinition<"snis"> = {
  name: "snis",
  get schema() {
    return sniSchema();
  },
  get shape() {
    return sniFields();
  },
  endpointKey: { field: "name", validate: validateWildcardHost },
  foreignKeys: [
    { field: "certificate", entity: "certificates", column: "certificate_id", onDelete: "cascade" },
  ],
  uniques: [["name"]],
  timestamps,
  admin: { path: "snis", topLevel: true },
  graphql: {
    type: "Sni",
    keyArg: "idOrName",
    keyName: "name",
    description: "A server name (exact or with one wildcard) and the certificate it selects (Kong's sni).",
  },
  snapshot: true,
};

export const caCertificates: EntityDefinition<"ca_certificates"> = {
  name: "ca_certificates",
  get schema() {
    return caCertificateSchema();
  },
  get shape() {
    return caCertificateFields();
  },
  endpointKey: null,
  foreignKeys: [],
  uniques: [["cert_digest"]],
  timestamps,
  admin: { path: "ca_certificates", topLevel: true },
  graphql: {
    type: "CaCertificate",
    keyArg: "id",
    keyName: "id",
    description: "A trusted CA certificate (Kong's ca_certificate), named by services to verify upstreams.",
  },
  snapshot: true,
};
