CREATE TABLE "targets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" double precision NOT NULL,
	"updated_at" double precision NOT NULL,
	"upstream_id" uuid NOT NULL,
	"target" text NOT NULL,
	"weight" integer NOT NULL,
	"tags" text
);
--> statement-breakpoint
CREATE TABLE "upstreams" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"name" text NOT NULL,
	"algorithm" text NOT NULL,
	"hash_on" text NOT NULL,
	"hash_fallback" text NOT NULL,
	"hash_on_header" text,
	"hash_fallback_header" text,
	"hash_on_cookie" text,
	"hash_on_cookie_path" text NOT NULL,
	"hash_on_query_arg" text,
	"hash_fallback_query_arg" text,
	"hash_on_uri_capture" text,
	"hash_fallback_uri_capture" text,
	"slots" integer NOT NULL,
	"healthchecks" text NOT NULL,
	"tags" text,
	"host_header" text,
	"client_certificate" text,
	"use_srv_name" boolean NOT NULL,
	CONSTRAINT "upstreams_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "targets" ADD CONSTRAINT "targets_upstream_id_upstreams_id_fk" FOREIGN KEY ("upstream_id") REFERENCES "public"."upstreams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "targets_upstream_target_unique" ON "targets" USING btree ("upstream_id","target");