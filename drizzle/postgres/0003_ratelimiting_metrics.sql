CREATE TABLE "ratelimiting_metrics" (
	"identifier" text NOT NULL,
	"period" text NOT NULL,
	"period_date" bigint NOT NULL,
	"service_id" uuid NOT NULL,
	"route_id" uuid NOT NULL,
	"value" integer NOT NULL,
	"ttl" bigint NOT NULL,
	CONSTRAINT "ratelimiting_metrics_identifier_period_period_date_service_id_route_id_pk" PRIMARY KEY("identifier","period","period_date","service_id","route_id")
);
--> statement-breakpoint
CREATE INDEX "ratelimiting_metrics_ttl_idx" ON "ratelimiting_metrics" USING btree ("ttl");