// Service: type, inputs, queries and mutations. Every write goes through the store, which validates with
// the same zod schema REST uses; the input check below runs that schema first on the very same body.
import { PROTOCOLS } from "../../schemas/common.ts";
import { type Service, serviceSchema } from "../../schemas/services.ts";
import { ENTITIES } from "../../store/entities/index.ts";
import { serviceUrl } from "../service-health.ts";
import { builder, type InputFields } from "./builder.ts";
import { addCrudFields } from "./crud.ts";
import { pageType } from "./pagination.ts";
import { entityKeyCheck } from "./validation.ts";
import { toWire } from "./wire.ts";

export const Protocol = builder.enumType("Protocol", {
  description: "A service's or route's protocol (wire values, as in REST).",
  values: PROTOCOLS,
});

export const EntityReference = builder.objectRef<{ id: string }>("EntityReference").implement({
  description: "A reference to another entity by id.",
  fields: (t) => ({ id: t.exposeID("id") }),
});

export const ServiceObject = builder.objectRef<Service>("Service").implement({
  description: "An upstream API (Kong's service). Field rules are those of REST's `/services`.",
  fields: (t) => ({
    id: t.exposeID("id"),
    createdAt: t.exposeInt("created_at", { description: "Unix time, seconds." }),
    updatedAt: t.exposeInt("updated_at", { description: "Unix time, seconds." }),
    name: t.exposeString("name", { nullable: true }),
    retries: t.exposeInt("retries"),
    protocol: t.expose("protocol", { type: Protocol }),
    host: t.exposeString("host"),
    port: t.exposeInt("port"),
    path: t.exposeString("path", { nullable: true }),
    connectTimeout: t.exposeInt("connect_timeout", { description: "Milliseconds." }),
    writeTimeout: t.exposeInt("write_timeout", { description: "Milliseconds." }),
    readTimeout: t.exposeInt("read_timeout", { description: "Milliseconds." }),
    tags: t.stringList({ nullable: true, resolve: (s) => s.tags }),
    clientCertificate: t.field({
      type: EntityReference,
      nullable: true,
      resolve: (s) => s.client_certificate,
    }),
    tlsVerify: t.exposeBoolean("tls_verify", { nullable: true }),
    tlsVerifyDepth: t.exposeInt("tls_verify_depth", { nullable: true }),
    caCertificates: t.idList({ nullable: true, resolve: (s) => s.ca_certificates }),
    enabled: t.exposeBoolean("enabled"),
    url: t.string({
      description: "Where requests go: protocol, host, port and path as one URL (read-only).",
      resolve: (s) => serviceUrl(s),
    }),
  }),
});

export const ServicePage = pageType("ServicePage", ServiceObject, "One page of services.");

const CertificateReferenceInput = builder.inputType("CertificateReferenceInput", {
  fields: (t) => ({ id: t.id() }),
});

/** The writable fields, shared by the create/replace input and the update input. */
const writableFields = (t: InputFields) => ({
  name: t.string(),
  retries: t.int(),
  protocol: t.field({ type: Protocol }),
  host: t.string(),
  port: t.int(),
  path: t.string(),
  connectTimeout: t.int(),
  writeTimeout: t.int(),
  readTimeout: t.int(),
  tags: t.stringList(),
  clientCertificate: t.field({ type: CertificateReferenceInput }),
  tlsVerify: t.boolean(),
  tlsVerifyDepth: t.int(),
  caCertificates: t.idList(),
  enabled: t.boolean(),
  url: t.string({
    description:
      "Shorthand for protocol, host, port and path (`https://example.com:8443/v1`); overrides them.",
  }),
});

export const ServiceInput = builder.inputType("ServiceInput", {
  description: "A whole service (create, or Kong's PUT: omitted fields go back to their defaults).",
  fields: (t) => ({
    id: t.id({ description: "Chosen by the client on create; generated when absent." }),
    ...writableFields(t),
  }),
});

export const ServiceUpdateInput = builder.inputType("ServiceUpdateInput", {
  description:
    "A partial update (Kong's PATCH): only the fields given change; `null` clears an optional field.",
  fields: writableFields,
});

addCrudFields({
  singular: "service",
  plural: "services",
  keyName: "name",
  object: ServiceObject,
  page: ServicePage,
  input: ServiceInput,
  updateInput: ServiceUpdateInput,
  schema: serviceSchema,
  def: ENTITIES.services,
  keyCheck: entityKeyCheck,
  repository: (ctx) => ctx.admin.store.entity("services"),
  loader: (ctx) => ctx.services,
  toWire,
  deleteNote:
    ". Answers the deleted id, or null when there was none. A service that routes still use is error code 4.",
});
