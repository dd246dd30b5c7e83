// drizzle tables (SQLite) mirroring schemas/. Wire names are column names, so rows map to entities 1:1;
// the type checks at the bottom fail the build when a column drifts from its zod schema.
import { type InferSelectModel, sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { CaCertificate, Certificate, Sni } from "../../schemas/certificates.ts";
import type { Consumer } from "../../schemas/consumers.ts";
import type { Acl, BasicAuthCredential, JwtSecret, KeyAuthCredential } from "../../schemas/credentials.ts";
import type { Healthchecks } from "../../schemas/healthchecks.ts";
import type { Plugin } from "../../schemas/plugins.ts";
import type { Route } from "../../schemas/routes.ts";
import type { Service } from "../../schemas/services.ts";
import type { Target } from "../../schemas/targets.ts";
import type { Upstream } from "../../schemas/upstreams.ts";
import type { EntityName } from "../entity-def.ts";

const json = <T>(name: string) => text(name, { mode: "json" }).$type<T>();
const bool = (name: string) => integer(name, { mode: "boolean" });

export const services = sqliteTable("services", {
  id: text("id").primaryKey(),
  created_at: integer("created_at").notNull(),
  updated_at: integer("updated_at").notNull(),
  name: text("name").unique(),
  retries: integer("retries").notNull(),
  protocol: text("protocol").$type<Service["protocol"]>().notNull(),
  host: text("host").notNull(),
  port: integer("port").notNull(),
  path: text("path"),
  connect_timeout: integer("connect_timeout").notNull(),
  write_timeout: integer("write_timeout").notNull(),
  read_timeout: integer("read_timeout").notNull(),
  tags: json<string[]>("tags"),
  client_certificate: json<{ id: string }>("client_certificate"),
  tls_verify: bool("tls_verify"),
  tls_verify_depth: integer("tls_verify_depth"),
  ca_certificates: json<string[]>("ca_certificates"),
  enabled: bool("enabled").notNull(),
});

export const routes = sqliteTable(
  "routes",
  {
    id: text("id").primaryKey(),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
    name: text("name").unique(),
    protocols: json<Route["protocols"]>("protocols").notNull(),
    methods: json<string[]>("methods"),
    hosts: json<string[]>("hosts"),
    paths: json<string[]>("paths"),
    headers: json<Record<string, string[]>>("headers"),
    snis: json<string[]>("snis"),
    https_redirect_status_code: integer("https_redirect_status_code").notNull(),
    regex_priority: integer("regex_priority").notNull(),
    strip_path: bool("strip_path").notNull(),
    path_handling: text("path_handling").$type<Route["path_handling"]>().notNull(),
    preserve_host: bool("preserve_host").notNull(),
    request_buffering: bool("request_buffering").notNull(),
    response_buffering: bool("response_buffering").notNull(),
    tags: json<string[]>("tags"),
    sources: json<Route["sources"]>("sources"),
    destinations: json<Route["destinations"]>("destinations"),
    // RESTRICT: a service with routes cannot be deleted (Kong code 4), enforced by the database too.
    service_id: text("service_id").references(() => services.id, { onDelete: "restrict" }),
  },
  (t) => [index("routes_service_id_idx").on(t.service_id)],
);

export const consumers = sqliteTable("consumers", {
  id: text("id").primaryKey(),
  created_at: integer("created_at").notNull(),
  updated_at: integer("updated_at").notNull(),
  username: text("username").unique(),
  custom_id: text("custom_id").unique(),
  tags: json<string[]>("tags"),
});

export const plugins = sqliteTable(
  "plugins",
  {
    id: text("id").primaryKey(),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
    name: text("name").notNull(),
    instance_name: text("instance_name").unique(),
    // CASCADE like Kong: a plugin goes with the route, service or consumer it is scoped to.
    route_id: text("route_id").references(() => routes.id, { onDelete: "cascade" }),
    service_id: text("service_id").references(() => services.id, { onDelete: "cascade" }),
    consumer_id: text("consumer_id").references(() => consumers.id, { onDelete: "cascade" }),
    config: json<Record<string, unknown>>("config").notNull(),
    protocols: json<Plugin["protocols"]>("protocols").notNull(),
    enabled: bool("enabled").notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [
    // One configuration per (name, scope) is enforced by the store inside its write transaction: a
    // composite UNIQUE would treat the NULLs of a global plugin as distinct.
    index("plugins_name_idx").on(t.name),
    index("plugins_route_id_idx").on(t.route_id),
    index("plugins_service_id_idx").on(t.service_id),
    index("plugins_consumer_id_idx").on(t.consumer_id),
  ],
);

const consumerId = () =>
  text("consumer_id")
    .notNull()
    .references(() => consumers.id, { onDelete: "cascade" });

export const keyauthCredentials = sqliteTable(
  "keyauth_credentials",
  {
    id: text("id").primaryKey(),
    created_at: integer("created_at").notNull(),
    consumer_id: consumerId(),
    key: text("key").notNull().unique(),
    ttl: integer("ttl"),
    tags: json<string[]>("tags"),
  },
  (t) => [index("keyauth_consumer_id_idx").on(t.consumer_id)],
);

export const basicauthCredentials = sqliteTable(
  "basicauth_credentials",
  {
    id: text("id").primaryKey(),
    created_at: integer("created_at").notNull(),
    consumer_id: consumerId(),
    username: text("username").notNull().unique(),
    password: text("password").notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [index("basicauth_consumer_id_idx").on(t.consumer_id)],
);

export const jwtSecrets = sqliteTable(
  "jwt_secrets",
  {
    id: text("id").primaryKey(),
    created_at: integer("created_at").notNull(),
    consumer_id: consumerId(),
    key: text("key").notNull().unique(),
    secret: text("secret").notNull(),
    rsa_public_key: text("rsa_public_key"),
    algorithm: text("algorithm").$type<JwtSecret["algorithm"]>().notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [index("jwt_consumer_id_idx").on(t.consumer_id)],
);

export const acls = sqliteTable(
  "acls",
  {
    id: text("id").primaryKey(),
    created_at: integer("created_at").notNull(),
    consumer_id: consumerId(),
    group: text("group").notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [uniqueIndex("acls_consumer_group_unique").on(t.consumer_id, t.group)],
);

export const upstreams = sqliteTable("upstreams", {
  id: text("id").primaryKey(),
  created_at: integer("created_at").notNull(),
  updated_at: integer("updated_at").notNull(),
  name: text("name").notNull().unique(),
  algorithm: text("algorithm").$type<Upstream["algorithm"]>().notNull(),
  hash_on: text("hash_on").$type<Upstream["hash_on"]>().notNull(),
  hash_fallback: text("hash_fallback").$type<Upstream["hash_fallback"]>().notNull(),
  hash_on_header: text("hash_on_header"),
  hash_fallback_header: text("hash_fallback_header"),
  hash_on_cookie: text("hash_on_cookie"),
  hash_on_cookie_path: text("hash_on_cookie_path").notNull(),
  hash_on_query_arg: text("hash_on_query_arg"),
  hash_fallback_query_arg: text("hash_fallback_query_arg"),
  hash_on_uri_capture: text("hash_on_uri_capture"),
  hash_fallback_uri_capture: text("hash_fallback_uri_capture"),
  slots: integer("slots").notNull(),
  healthchecks: json<Healthchecks>("healthchecks").notNull(),
  tags: json<string[]>("tags"),
  host_header: text("host_header"),
  client_certificate: json<{ id: string }>("client_certificate"),
  use_srv_name: bool("use_srv_name").notNull(),
});

export const targets = sqliteTable(
  "targets",
  {
    id: text("id").primaryKey(),
    // Kong's auto_timestamp_ms: seconds with millisecond precision.
    created_at: real("created_at").notNull(),
    updated_at: real("updated_at").notNull(),
    upstream_id: text("upstream_id")
      .notNull()
      .references(() => upstreams.id, { onDelete: "cascade" }),
    target: text("target").notNull(),
    weight: integer("weight").notNull(),
    tags: json<string[]>("tags"),
  },
  // The same host:port twice in one upstream is refused (Kong's cache key), by the database too.
  (t) => [uniqueIndex("targets_upstream_target_unique").on(t.upstream_id, t.target)],
);

/** Certificates (Kong's certificates): PEM text; the keys are never echoed in errors. */
export const certificates = sqliteTable("certificates", {
  id: text("id").primaryKey(),
  created_at: integer("created_at").notNull(),
  updated_at: integer("updated_at").notNull(),
  cert: text("cert").notNull(),
  key: text("key").notNull(),
  cert_alt: text("cert_alt"),
  key_alt: text("key_alt"),
  tags: json<string[]>("tags"),
});

/** Server names and the certificate each one selects (Kong's snis); they go with their certificate. */
export const snis = sqliteTable("snis", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  created_at: integer("created_at").notNull(),
  updated_at: integer("updated_at").notNull(),
  tags: json<string[]>("tags"),
  certificate_id: text("certificate_id")
    .notNull()
    .references(() => certificates.id, { onDelete: "cascade" }),
});

/** Trusted CA certificates (Kong's ca_certificates), named by services' ca_certificates. */
export const caCertificates = sqliteTable("ca_certificates", {
  id: text("id").primaryKey(),
  created_at: integer("created_at").notNull(),
  updated_at: integer("updated_at").notNull(),
  cert: text("cert").notNull(),
  cert_digest: text("cert_digest").unique(),
  tags: json<string[]>("tags"),
});

/** One row: the configuration version, bumped in the same transaction as every write. */
export const configState = sqliteTable("config_state", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull().default(sql`0`),
});

/**
 * Every committed change, one row per configuration version (Kong's cluster_events, but read on a push):
 * other nodes (and processes sharing a SQLite file) replay them in order for subscriptions.
 */
export const configEvents = sqliteTable("config_events", {
  version: integer("version").primaryKey(),
  entity: text("entity").notNull(),
  action: text("action").notNull(),
  entity_id: text("entity_id").notNull(),
  at: integer("at").notNull(),
});

/**
 * Messages for every node that are not configuration (Kong's cluster_events: a proxy-cache purge), read by the
 * other nodes, and processes sharing a SQLite file, on their next sync; kept for an hour.
 */
export const clusterEvents = sqliteTable("cluster_events", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  channel: text("channel").notNull(),
  data: text("data").notNull(),
  /** The store (process) that sent it: it does not read its own. */
  origin: text("origin").notNull(),
  at: integer("at").notNull(),
});

/** The nodes serving this configuration, each refreshing its row (Kong's clustering_data_planes). */
export const clusterNodes = sqliteTable("cluster_nodes", {
  id: text("id").primaryKey(),
  hostname: text("hostname").notNull(),
  version: text("version").notNull(),
  config_version: integer("config_version").notNull(),
  started_at: integer("started_at").notNull(),
  last_seen: integer("last_seen").notNull(),
  workers: integer("workers").notNull(),
});

/**
 * The node's generated default TLS certificate (when no --ssl-cert is given): made once by the first node
 * and kept, so every node and restart presents the same one (Kong writes its own to the prefix).
 */
export const defaultCertificates = sqliteTable("default_certificates", {
  id: text("id").primaryKey(),
  cert: text("cert").notNull(),
  key: text("key").notNull(),
  created_at: integer("created_at").notNull(),
});

/** The table of each entity, by Kong's DAO name (a missing entity is a type error). */
/**
 * rate-limiting's `cluster` policy counters (Kong's `ratelimiting_metrics`): one row per window, keyed as Kong
 * keys it. `period_date` is the window's start and `ttl` when the row may be deleted, both epoch seconds.
 */
export const ratelimitingMetrics = sqliteTable(
  "ratelimiting_metrics",
  {
    identifier: text("identifier").notNull(),
    period: text("period").notNull(),
    period_date: integer("period_date").notNull(),
    service_id: text("service_id").notNull(),
    route_id: text("route_id").notNull(),
    value: integer("value").notNull(),
    ttl: integer("ttl").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.identifier, t.period, t.period_date, t.service_id, t.route_id] }),
    index("ratelimiting_metrics_ttl_idx").on(t.ttl),
  ],
);

export const sqliteTables = {
  services,
  routes,
  consumers,
  plugins,
  keyauth_credentials: keyauthCredentials,
  basicauth_credentials: basicauthCredentials,
  jwt_secrets: jwtSecrets,
  acls,
  upstreams,
  targets,
  certificates,
  snis,
  ca_certificates: caCertificates,
  config_state: configState,
  config_events: configEvents,
  cluster_events: clusterEvents,
  cluster_nodes: clusterNodes,
  default_certificates: defaultCertificates,
  ratelimiting_metrics: ratelimitingMetrics,
} satisfies Record<
  | EntityName
  | "config_state"
  | "config_events"
  | "cluster_events"
  | "cluster_nodes"
  | "default_certificates"
  | "ratelimiting_metrics",
  unknown
>;

// --- drift checks: a column that no longer matches its zod schema is a type error here -------------
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _ServiceRowMatchesSchema = Assert<Exact<InferSelectModel<typeof services>, Service>>;
export type _RouteRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof routes>, Omit<Route, "service"> & { service_id: string | null }>
>;
type WithConsumerId<E> = Omit<E, "consumer"> & { consumer_id: string };
export type _ConsumerRowMatchesSchema = Assert<Exact<InferSelectModel<typeof consumers>, Consumer>>;
export type _PluginRowMatchesSchema = Assert<
  Exact<
    InferSelectModel<typeof plugins>,
    Omit<Plugin, "route" | "service" | "consumer"> & {
      route_id: string | null;
      service_id: string | null;
      consumer_id: string | null;
    }
  >
>;
export type _KeyAuthRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof keyauthCredentials>, WithConsumerId<KeyAuthCredential>>
>;
export type _BasicAuthRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof basicauthCredentials>, WithConsumerId<BasicAuthCredential>>
>;
export type _JwtRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof jwtSecrets>, WithConsumerId<JwtSecret>>
>;
export type _AclRowMatchesSchema = Assert<Exact<InferSelectModel<typeof acls>, WithConsumerId<Acl>>>;
export type _UpstreamRowMatchesSchema = Assert<Exact<InferSelectModel<typeof upstreams>, Upstream>>;
export type _TargetRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof targets>, Omit<Target, "upstream"> & { upstream_id: string }>
>;
export type _CertificateRowMatchesSchema = Assert<Exact<InferSelectModel<typeof certificates>, Certificate>>;
export type _SniRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof snis>, Omit<Sni, "certificate"> & { certificate_id: string }>
>;
export type _CaCertificateRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof caCertificates>, CaCertificate>
>;
