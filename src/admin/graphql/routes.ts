// Route: type, inputs, queries and mutations, plus the `Service.routes` link. Headers are a map on the wire
// (`{"x-version": ["1"]}`); GraphQL has no map type, so they are a list of `{name, values}` here.
import { type Route, routeSchema } from "../../schemas/routes.ts";
import { ENTITIES } from "../../store/entities/index.ts";
import { builder, type InputFields } from "./builder.ts";
import { addCrudFields } from "./crud.ts";
import { loadPage, pageArgs, pageType } from "./pagination.ts";
import { Protocol, ServiceObject } from "./services.ts";
import { entityKeyCheck } from "./validation.ts";
import { toWire } from "./wire.ts";

type Header = { name: string; values: string[] };

const HeaderObject = builder.objectRef<Header>("Header").implement({
  description: "A request header a route matches: any of `values` (a `~*` prefix makes a value a regex).",
  fields: (t) => ({
    name: t.exposeString("name"),
    values: t.exposeStringList("values"),
  }),
});

type StreamEndpoint = { ip?: string; port?: number };

const StreamEndpointObject = builder.objectRef<StreamEndpoint>("StreamEndpoint").implement({
  description: "A stream route's source or destination (always null on Portico's http(s) routes, as Kong's).",
  fields: (t) => ({
    ip: t.string({ nullable: true, resolve: (e) => e.ip ?? null }),
    port: t.int({ nullable: true, resolve: (e) => e.port ?? null }),
  }),
});

const StreamEndpointInput = builder.inputType("StreamEndpointInput", {
  fields: (t) => ({ ip: t.string(), port: t.int() }),
});

const PathHandling = builder.enumType("PathHandling", {
  description: "How the route's path joins the service's path (Kong: v1 is deprecated).",
  values: ["v0", "v1"] as const,
});

export const RouteObject = builder.objectRef<Route>("Route").implement({
  description: "How requests reach a service (Kong's route). Field rules are those of REST's `/routes`.",
  fields: (t) => ({
    id: t.exposeID("id"),
    createdAt: t.exposeInt("created_at", { description: "Unix time, seconds." }),
    updatedAt: t.exposeInt("updated_at", { description: "Unix time, seconds." }),
    name: t.exposeString("name", { nullable: true }),
    protocols: t.field({ type: [Protocol], resolve: (r) => r.protocols }),
    methods: t.stringList({ nullable: true, resolve: (r) => r.methods }),
    hosts: t.stringList({ nullable: true, resolve: (r) => r.hosts }),
    paths: t.stringList({ nullable: true, resolve: (r) => r.paths }),
    headers: t.field({
      type: [HeaderObject],
      nullable: true,
      resolve: (r) =>
        r.headers === null ? null : Object.entries(r.headers).map(([name, values]) => ({ name, values })),
    }),
    snis: t.stringList({ nullable: true, resolve: (r) => r.snis }),
    httpsRedirectStatusCode: t.exposeInt("https_redirect_status_code"),
    regexPriority: t.exposeInt("regex_priority"),
    stripPath: t.exposeBoolean("strip_path"),
    pathHandling: t.expose("path_handling", { type: PathHandling }),
    preserveHost: t.exposeBoolean("preserve_host"),
    requestBuffering: t.exposeBoolean("request_buffering"),
    responseBuffering: t.exposeBoolean("response_buffering"),
    tags: t.stringList({ nullable: true, resolve: (r) => r.tags }),
    sources: t.field({ type: [StreamEndpointObject], nullable: true, resolve: (r) => r.sources }),
    destinations: t.field({ type: [StreamEndpointObject], nullable: true, resolve: (r) => r.destinations }),
    service: t.field({
      type: ServiceObject,
      nullable: true,
      resolve: (r, _args, ctx) => (r.service ? ctx.services.load(r.service.id) : null),
    }),
  }),
});

export const RoutePage = pageType("RoutePage", RouteObject, "One page of routes.");

builder.objectField(ServiceObject, "routes", (t) =>
  t.field({
    type: RoutePage,
    description: "The service's routes (REST: `GET /services/{idOrName}/routes`).",
    args: pageArgs,
    resolve: (service, args, ctx) =>
      loadPage(ctx.admin.store.entity("routes"), args, { service: service.id }),
  }),
);

const HeaderInput = builder.inputType("HeaderInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    values: t.stringList({ required: true }),
  }),
});

export const ServiceReferenceInput = builder.inputType("ServiceReferenceInput", {
  description: "The route's service, by `id` or by `name`.",
  fields: (t) => ({ id: t.id(), name: t.string() }),
});

const writableFields = (t: InputFields) => ({
  name: t.string(),
  protocols: t.field({ type: [Protocol] }),
  methods: t.stringList(),
  hosts: t.stringList(),
  paths: t.stringList(),
  headers: t.field({ type: [HeaderInput] }),
  snis: t.stringList(),
  httpsRedirectStatusCode: t.int(),
  regexPriority: t.int(),
  stripPath: t.boolean(),
  pathHandling: t.field({ type: PathHandling }),
  preserveHost: t.boolean(),
  requestBuffering: t.boolean(),
  responseBuffering: t.boolean(),
  tags: t.stringList(),
  sources: t.field({ type: [StreamEndpointInput] }),
  destinations: t.field({ type: [StreamEndpointInput] }),
  service: t.field({ type: ServiceReferenceInput }),
});

export const RouteInput = builder.inputType("RouteInput", {
  description: "A whole route (create, or Kong's PUT: omitted fields go back to their defaults).",
  fields: (t) => ({
    id: t.id({ description: "Chosen by the client on create; generated when absent." }),
    ...writableFields(t),
  }),
});

export const RouteUpdateInput = builder.inputType("RouteUpdateInput", {
  description:
    "A partial update (Kong's PATCH): only the fields given change; `null` clears an optional field.",
  fields: writableFields,
});

/** The wire body of a route input: snake_case keys, headers as a map (a name given twice adds values). */
function routeToWire(input: Record<string, unknown>): Record<string, unknown> {
  const body = toWire(input);
  if (Array.isArray(input.headers)) {
    const map: Record<string, string[]> = {};
    for (const { name, values } of input.headers as Header[]) map[name] = [...(map[name] ?? []), ...values];
    body.headers = map;
  }
  return body;
}

addCrudFields({
  singular: "route",
  plural: "routes",
  keyName: "name",
  object: RouteObject,
  page: RoutePage,
  input: RouteInput,
  updateInput: RouteUpdateInput,
  schema: routeSchema,
  def: ENTITIES.routes,
  keyCheck: entityKeyCheck,
  repository: (ctx) => ctx.admin.store.entity("routes"),
  loader: (ctx) => ctx.routes,
  toWire: routeToWire,
  deleteNote: ". Answers the deleted id, or null when there was none.",
});
