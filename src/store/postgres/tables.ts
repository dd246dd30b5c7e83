// drizzle tables (PostgreSQL) mirroring the SQLite ones column for column: wire names as column names, JSON
// stored as text (drizzle 0.45 + Bun.SQL double-encode jsonb, PLATFORM-NOTES), timestamps as bigint, ids as
// uuid (ordered by their bytes, as SQLite orders the lower-case text, so pages come in the same order). The check
// at the bottom makes any difference between the two dialects' rows a type error.
import type { InferSelectModel, Table } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { JwtSecret } from "../../schemas/credentials.ts";
import type { Healthchecks } from "../../schemas/healthchecks.ts";
import type { Plugin } from "../../schemas/plugins.ts";
import type { Route } from "../../schemas/routes.ts";
import type { Service } from "../../schemas/services.ts";
import type { Upstream } from "../../schemas/upstreams.ts";
import type { EntityName } from "../entity-def.ts";
import type { sqliteTables } from "../sqlite/tables.ts";

/** JSON as text: the value round-trips exactly, in both dialects. */
const json = <T>(name: string) =>
  customType<{ data: T; driverData: string }>({
    dataType: () => "text",
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => JSON.parse(value) as T,
  })(name);
const bool = (name: string) => boolean(name);
const seconds = (name: string) => bigint(name, { mode: "number" });

export const services = pgTable("services", {
  id: uuid("id").primaryKey(),
  created_at: seconds("created_at").notNull(),
  updated_at: seconds("updated_at").notNull(),
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

export const routes = pgTable(
  "routes",
  {
    id: uuid("id").primaryKey(),
    created_at: seconds("created_at").notNull(),
    updated_at: seconds("updated_at").notNull(),
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
    service_id: uuid("service_id").references(() => services.id, { onDelete: "restrict" }),
  },
  (t) => [index("routes_service_id_idx").on(t.service_id)],
);

export const consumers = pgTable("consumers", {
  id: uuid("id").primaryKey(),
  created_at: seconds("created_at").notNull(),
  updated_at: seconds("updated_at").notNull(),
  username: text("username").unique(),
  custom_id: text("custom_id").unique(),
  tags: json<string[]>("tags"),
});

export const plugins = pgTable(
  "plugins",
  {
    id: uuid("id").primaryKey(),
    created_at: seconds("created_at").notNull(),
    updated_at: seconds("updated_at").notNull(),
    name: text("name").notNull(),
    instance_name: text("instance_name").unique(),
    // CASCADE like Kong: a plugin goes with the route, service or consumer it is scoped to.
    route_id: uuid("route_id").references(() => routes.id, { onDelete: "cascade" }),
    service_id: uuid("service_id").references(() => services.id, { onDelete: "cascade" }),
    consumer_id: uuid("consumer_id").references(() => consumers.id, { onDelete: "cascade" }),
    config: json<Record<string, unknown>>("config").notNull(),
    protocols: json<Plugin["protocols"]>("protocols").notNull(),
    enabled: bool("enabled").notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [
    // One configuration per (name, scope): checked by the store inside its (serialised) write transaction,
    // and by the database too — PostgreSQL 15 can treat the NULLs of a global plugin as equal.
    unique("plugins_name_scope_unique")
      .on(t.name, t.route_id, t.service_id, t.consumer_id)
      .nullsNotDistinct(),
    index("plugins_name_idx").on(t.name),
    index("plugins_route_id_idx").on(t.route_id),
    index("plugins_service_id_idx").on(t.service_id),
    index("plugins_consumer_id_idx").on(t.consumer_id),
  ],
);

const consumerId = () =>
  uuid("consumer_id")
    .notNull()
    .references(() => consumers.id, { onDelete: "cascade" });

export const keyauthCredentials = pgTable(
  "keyauth_credentials",
  {
    id: uuid("id").primaryKey(),
    created_at: seconds("created_at").notNull(),
    consumer_id: consumerId(),
    key: text("key").notNull().unique(),
    ttl: integer("ttl"),
    tags: json<string[]>("tags"),
  },
  (t) => [index("keyauth_consumer_id_idx").on(t.consumer_id)],
);

export const basicauthCredentials = pgTable(
  "basicauth_credentials",
  {
    id: uuid("id").primaryKey(),
    created_at: seconds("created_at").notNull(),
    consumer_id: consumerId(),
    username: text("username").notNull().unique(),
    password: text("password").notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [index("basicauth_consumer_id_idx").on(t.consumer_id)],
);

export const jwtSecrets = pgTable(
  "jwt_secrets",
  {
    id: uuid("id").primaryKey(),
    created_at: seconds("created_at").notNull(),
    consumer_id: consumerId(),
    key: text("key").notNull().unique(),
    secret: text("secret").notNull(),
    rsa_public_key: text("rsa_public_key"),
    algorithm: text("algorithm").$type<JwtSecret["algorithm"]>().notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [index("jwt_consumer_id_idx").on(t.consumer_id)],
);

export const acls = pgTable(
  "acls",
  {
    id: uuid("id").primaryKey(),
    created_at: seconds("created_at").notNull(),
    consumer_id: consumerId(),
    group: text("group").notNull(),
    tags: json<string[]>("tags"),
  },
  (t) => [uniqueIndex("acls_consumer_group_unique").on(t.consumer_id, t.group)],
);

export const upstreams = pgTable("upstreams", {
  id: uuid("id").primaryKey(),
  created_at: seconds("created_at").notNull(),
  updated_at: seconds("updated_at").notNull(),
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

export const targets = pgTable(
  "targets",
  {
    id: uuid("id").primaryKey(),
    // Kong's auto_timestamp_ms: seconds with millisecond precision.
    created_at: doublePrecision("created_at").notNull(),
    updated_at: doublePrecision("updated_at").notNull(),
    upstream_id: uuid("upstream_id")
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
export const certificates = pgTable("certificates", {
  id: uuid("id").primaryKey(),
  created_at: seconds("created_at").notNull(),
  updated_at: seconds("updated_at").notNull(),
  cert: text("cert").notNull(),
  key: text("key").notNull(),
  cert_alt: text("cert_alt"),
  key_alt: text("key_alt"),
  tags: json<string[]>("tags"),
});

/** Server names and the certificate each one selects (Kong's snis); they go with their certificate. */
export const snis = pgTable("snis", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull().unique(),
  created_at: seconds("created_at").notNull(),
  updated_at: seconds("updated_at").notNull(),
  tags: json<string[]>("tags"),
  certificate_id: uuid("certificate_id")
    .notNull()
    .references(() => certificates.id, { onDelete: "cascade" }),
});

/** Trusted CA certificates (Kong's ca_certificates), named by services' ca_certificates. */
export const caCertificates = pgTable("ca_certificates", {
  id: uuid("id").primaryKey(),
  created_at: seconds("created_at").notNull(),
  updated_at: seconds("updated_at").notNull(),
  cert: text("cert").notNull(),
  cert_digest: text("cert_digest").unique(),
  tags: json<string[]>("tags"),
});

/** One row: the configuration version, bumped in the same transaction as every write. */
export const configState = pgTable("config_state", {
  id: integer("id").primaryKey(),
  version: bigint("version", { mode: "number" }).notNull().default(0),
});

/**
 * Every committed change, one row per configuration version (Kong's cluster_events, but read on a push):
 * other nodes replay them in order for subscriptions.
 */
export const configEvents = pgTable("config_events", {
  version: bigint("version", { mode: "number" }).primaryKey(),
  entity: text("entity").notNull(),
  action: text("action").notNull(),
  entity_id: text("entity_id").notNull(),
  at: bigint("at", { mode: "number" }).notNull(),
});

/**
 * Messages for every node that are not configuration (Kong's cluster_events: a proxy-cache purge), read by the
 * other nodes on their next sync (NOTIFY makes that at once); kept for an hour.
 */
export const clusterEvents = pgTable("cluster_events", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  channel: text("channel").notNull(),
  data: text("data").notNull(),
  /** The store (process) that sent it: it does not read its own. */
  origin: text("origin").notNull(),
  at: bigint("at", { mode: "number" }).notNull(),
});

/** The nodes serving this configuration, each refreshing its row (Kong's clustering_data_planes). */
export const clusterNodes = pgTable("cluster_nodes", {
  id: text("id").primaryKey(),
  hostname: text("hostname").notNull(),
  version: text("version").notNull(),
  config_version: bigint("config_version", { mode: "number" }).notNull(),
  started_at: bigint("started_at", { mode: "number" }).notNull(),
  last_seen: bigint("last_seen", { mode: "number" }).notNull(),
  workers: integer("workers").notNull(),
});

/**
 * The node's generated default TLS certificate (when no --ssl-cert is given): made once by the first node
 * and kept, so every node and restart presents the same one (Kong writes its own to the prefix).
 */
export const defaultCertificates = pgTable("default_certificates", {
  id: text("id").primaryKey(),
  cert: text("cert").notNull(),
  key: text("key").notNull(),
  created_at: bigint("created_at", { mode: "number" }).notNull(),
});

/** rate-limiting's `cluster` policy counters (Kong's `ratelimiting_metrics`), as in SQLite. */
export const ratelimitingMetrics = pgTable(
  "ratelimiting_metrics",
  {
    identifier: text("identifier").notNull(),
    period: text("period").notNull(),
    period_date: seconds("period_date").notNull(),
    service_id: uuid("service_id").notNull(),
    route_id: uuid("route_id").notNull(),
    value: integer("value").notNull(),
    ttl: seconds("ttl").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.identifier, t.period, t.period_date, t.service_id, t.route_id] }),
    index("ratelimiting_metrics_ttl_idx").on(t.ttl),
  ],
);

/** The table of each entity, by Kong's DAO name (a missing entity is a type error). */
export const postgresTables = {
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

// --- drift check: both dialects store exactly the same rows ------------------------------------------------
type Rows<T> = { [K in keyof T]: T[K] extends Table ? InferSelectModel<T[K]> : never };
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _PostgresRowsMatchSqlite = Assert<Exact<Rows<typeof postgresTables>, Rows<typeof sqliteTables>>>;
