// drizzle tables (SQLite) mirroring schemas/. Wire names are column names, so rows map to entities 1:1;
// the type checks at the bottom fail the build when a column drifts from its zod schema.
import { type InferSelectModel, sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Route } from "../schemas/routes.ts";
import type { Service } from "../schemas/services.ts";

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
    // RESTRICT: a service with routes cannot be deleted (Kong code 4), enforced by the database too.
    service_id: text("service_id").references(() => services.id, { onDelete: "restrict" }),
  },
  (t) => [index("routes_service_id_idx").on(t.service_id)],
);

/** One row: the configuration version, bumped in the same transaction as every write. */
export const configState = sqliteTable("config_state", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull().default(sql`0`),
});

// --- drift checks: a column that no longer matches its zod schema is a type error here -------------
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _ServiceRowMatchesSchema = Assert<Exact<InferSelectModel<typeof services>, Service>>;
export type _RouteRowMatchesSchema = Assert<
  Exact<InferSelectModel<typeof routes>, Omit<Route, "service"> & { service_id: string | null }>
>;
