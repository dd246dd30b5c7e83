CREATE TABLE `cluster_nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`hostname` text NOT NULL,
	`version` text NOT NULL,
	`config_version` integer NOT NULL,
	`started_at` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`workers` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `config_events` (
	`version` integer PRIMARY KEY NOT NULL,
	`entity` text NOT NULL,
	`action` text NOT NULL,
	`entity_id` text NOT NULL,
	`at` integer NOT NULL
);
