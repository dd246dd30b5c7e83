CREATE TABLE "cluster_nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"version" text NOT NULL,
	"config_version" bigint NOT NULL,
	"started_at" bigint NOT NULL,
	"last_seen" bigint NOT NULL,
	"workers" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "config_events" (
	"version" bigint PRIMARY KEY NOT NULL,
	"entity" text NOT NULL,
	"action" text NOT NULL,
	"entity_id" text NOT NULL,
	"at" bigint NOT NULL
);
