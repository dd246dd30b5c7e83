CREATE TABLE "acls" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"consumer_id" uuid NOT NULL,
	"group" text NOT NULL,
	"tags" text
);
--> statement-breakpoint
CREATE TABLE "basicauth_credentials" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"consumer_id" uuid NOT NULL,
	"username" text NOT NULL,
	"password" text NOT NULL,
	"tags" text,
	CONSTRAINT "basicauth_credentials_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "config_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consumers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"username" text,
	"custom_id" text,
	"tags" text,
	CONSTRAINT "consumers_username_unique" UNIQUE("username"),
	CONSTRAINT "consumers_custom_id_unique" UNIQUE("custom_id")
);
--> statement-breakpoint
CREATE TABLE "jwt_secrets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"consumer_id" uuid NOT NULL,
	"key" text NOT NULL,
	"secret" text NOT NULL,
	"rsa_public_key" text,
	"algorithm" text NOT NULL,
	"tags" text,
	CONSTRAINT "jwt_secrets_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "keyauth_credentials" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"consumer_id" uuid NOT NULL,
	"key" text NOT NULL,
	"ttl" integer,
	"tags" text,
	CONSTRAINT "keyauth_credentials_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "plugins" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"name" text NOT NULL,
	"instance_name" text,
	"route_id" uuid,
	"service_id" uuid,
	"consumer_id" uuid,
	"config" text NOT NULL,
	"protocols" text NOT NULL,
	"enabled" boolean NOT NULL,
	"tags" text,
	CONSTRAINT "plugins_instance_name_unique" UNIQUE("instance_name"),
	CONSTRAINT "plugins_name_scope_unique" UNIQUE NULLS NOT DISTINCT("name","route_id","service_id","consumer_id")
);
--> statement-breakpoint
CREATE TABLE "routes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"name" text,
	"protocols" text NOT NULL,
	"methods" text,
	"hosts" text,
	"paths" text,
	"headers" text,
	"snis" text,
	"https_redirect_status_code" integer NOT NULL,
	"regex_priority" integer NOT NULL,
	"strip_path" boolean NOT NULL,
	"path_handling" text NOT NULL,
	"preserve_host" boolean NOT NULL,
	"request_buffering" boolean NOT NULL,
	"response_buffering" boolean NOT NULL,
	"tags" text,
	"sources" text,
	"destinations" text,
	"service_id" uuid,
	CONSTRAINT "routes_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"name" text,
	"retries" integer NOT NULL,
	"protocol" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"path" text,
	"connect_timeout" integer NOT NULL,
	"write_timeout" integer NOT NULL,
	"read_timeout" integer NOT NULL,
	"tags" text,
	"client_certificate" text,
	"tls_verify" boolean,
	"tls_verify_depth" integer,
	"ca_certificates" text,
	"enabled" boolean NOT NULL,
	CONSTRAINT "services_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "acls" ADD CONSTRAINT "acls_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "basicauth_credentials" ADD CONSTRAINT "basicauth_credentials_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jwt_secrets" ADD CONSTRAINT "jwt_secrets_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "keyauth_credentials" ADD CONSTRAINT "keyauth_credentials_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plugins" ADD CONSTRAINT "plugins_route_id_routes_id_fk" FOREIGN KEY ("route_id") REFERENCES "public"."routes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plugins" ADD CONSTRAINT "plugins_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plugins" ADD CONSTRAINT "plugins_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routes" ADD CONSTRAINT "routes_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "acls_consumer_group_unique" ON "acls" USING btree ("consumer_id","group");--> statement-breakpoint
CREATE INDEX "basicauth_consumer_id_idx" ON "basicauth_credentials" USING btree ("consumer_id");--> statement-breakpoint
CREATE INDEX "jwt_consumer_id_idx" ON "jwt_secrets" USING btree ("consumer_id");--> statement-breakpoint
CREATE INDEX "keyauth_consumer_id_idx" ON "keyauth_credentials" USING btree ("consumer_id");--> statement-breakpoint
CREATE INDEX "plugins_name_idx" ON "plugins" USING btree ("name");--> statement-breakpoint
CREATE INDEX "plugins_route_id_idx" ON "plugins" USING btree ("route_id");--> statement-breakpoint
CREATE INDEX "plugins_service_id_idx" ON "plugins" USING btree ("service_id");--> statement-breakpoint
CREATE INDEX "plugins_consumer_id_idx" ON "plugins" USING btree ("consumer_id");--> statement-breakpoint
CREATE INDEX "routes_service_id_idx" ON "routes" USING btree ("service_id");