CREATE TABLE "cluster_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"data" text NOT NULL,
	"origin" text NOT NULL,
	"at" bigint NOT NULL
);
