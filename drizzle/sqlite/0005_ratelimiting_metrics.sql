CREATE TABLE `ratelimiting_metrics` (
	`identifier` text NOT NULL,
	`period` text NOT NULL,
	`period_date` integer NOT NULL,
	`service_id` text NOT NULL,
	`route_id` text NOT NULL,
	`value` integer NOT NULL,
	`ttl` integer NOT NULL,
	PRIMARY KEY(`identifier`, `period`, `period_date`, `service_id`, `route_id`)
);
--> statement-breakpoint
CREATE INDEX `ratelimiting_metrics_ttl_idx` ON `ratelimiting_metrics` (`ttl`);