CREATE TABLE `targets` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` real NOT NULL,
	`updated_at` real NOT NULL,
	`upstream_id` text NOT NULL,
	`target` text NOT NULL,
	`weight` integer NOT NULL,
	`tags` text,
	FOREIGN KEY (`upstream_id`) REFERENCES `upstreams`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `targets_upstream_target_unique` ON `targets` (`upstream_id`,`target`);--> statement-breakpoint
CREATE TABLE `upstreams` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`name` text NOT NULL,
	`algorithm` text NOT NULL,
	`hash_on` text NOT NULL,
	`hash_fallback` text NOT NULL,
	`hash_on_header` text,
	`hash_fallback_header` text,
	`hash_on_cookie` text,
	`hash_on_cookie_path` text NOT NULL,
	`hash_on_query_arg` text,
	`hash_fallback_query_arg` text,
	`hash_on_uri_capture` text,
	`hash_fallback_uri_capture` text,
	`slots` integer NOT NULL,
	`healthchecks` text NOT NULL,
	`tags` text,
	`host_header` text,
	`client_certificate` text,
	`use_srv_name` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `upstreams_name_unique` ON `upstreams` (`name`);