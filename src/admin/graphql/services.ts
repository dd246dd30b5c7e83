// Service: type, inputs, queries and mutations. Every write goes through the store, which validates with
// the same zod schema REST uses; the input check below runs that schema first on the very same body.
import { PROTOCOLS } from "../../schemas/common.ts";
import { type Service, serviceSchema } from "../../schemas/services.ts";
import { ENTITY_DEFS } from "../../store/entities.ts";
import { serviceUrl } from "../service-health.ts";
import { builder, type InputFields } from "./builder.ts";
import { loadPage, pageArgs, pageType } from "./pagination.ts";
import { entityKeyCheck, inputCheck, upsertBody } from "./validation.ts";
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

type InputArgs = { input: Record<string, unknown> };
type KeyedInputArgs = InputArgs & { idOrName: string };

builder.queryFields((t) => ({
  services: t.field({
    type: ServicePage,
    description: "Services, ordered by id (REST: `GET /services`).",
    args: pageArgs,
    resolve: (_root, args, ctx) => loadPage(ctx.admin.store.services, args),
  }),
  service: t.field({
    type: ServiceObject,
    nullable: true,
    description: "One service by id or name; null when there is none.",
    args: { idOrName: t.arg.string({ required: true, validate: entityKeyCheck }) },
    resolve: (_root, { idOrName }, ctx) => ctx.admin.store.services.get(idOrName),
  }),
}));

builder.mutationFields((t) => ({
  addService: t.field({
    type: ServiceObject,
    description: "Create a service (REST: `POST /services`).",
    args: { input: t.arg({ type: ServiceInput, required: true }) },
    validate: inputCheck<InputArgs>(serviceSchema, ({ input }) => toWire(input)),
    resolve: (_root, { input }, ctx) => {
      ctx.services.clear();
      return ctx.admin.store.services.insert(toWire(input));
    },
  }),
  updateService: t.field({
    type: ServiceObject,
    description:
      "Change some fields of a service (REST: `PATCH /services/{idOrName}`). The merged service is " +
      "validated as a whole; a missing service is error code 6.",
    args: {
      idOrName: t.arg.string({ required: true, validate: entityKeyCheck }),
      input: t.arg({ type: ServiceUpdateInput, required: true }),
    },
    resolve: (_root, { idOrName, input }, ctx) => {
      ctx.services.clear();
      return ctx.admin.store.services.update(idOrName, toWire(input));
    },
  }),
  upsertService: t.field({
    type: ServiceObject,
    description:
      "Create or fully replace a service (REST: `PUT /services/{idOrName}`): omitted fields go back to " +
      "their defaults; the id or name in `idOrName` wins over the input's.",
    args: {
      idOrName: t.arg.string({ required: true, validate: entityKeyCheck }),
      input: t.arg({ type: ServiceInput, required: true }),
    },
    validate: inputCheck<KeyedInputArgs>(serviceSchema, ({ idOrName, input }) =>
      upsertBody(ENTITY_DEFS.services, idOrName, toWire(input)),
    ),
    resolve: (_root, { idOrName, input }, ctx) => {
      ctx.services.clear();
      return ctx.admin.store.services.upsert(idOrName, toWire(input));
    },
  }),
  deleteService: t.id({
    nullable: true,
    description:
      "Delete a service (REST: `DELETE /services/{idOrName}`). Answers the deleted id, or null when " +
      "there was none. A service that routes still use is error code 4.",
    args: { idOrName: t.arg.string({ required: true, validate: entityKeyCheck }) },
    resolve: async (_root, { idOrName }, ctx) => {
      ctx.services.clear();
      return (await ctx.admin.store.services.delete(idOrName))?.id ?? null;
    },
  }),
}));
