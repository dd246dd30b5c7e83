CREATE TABLE `config_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`version` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `routes` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`name` text,
	`protocols` text NOT NULL,
	`methods` text,
	`hosts` text,
	`paths` text,
	`headers` text,
	`snis` text,
	`https_redirect_status_code` integer NOT NULL,
	`regex_priority` integer NOT NULL,
	`strip_path` integer NOT NULL,
	`path_handling` text NOT NULL,
	`preserve_host` integer NOT NULL,
	`request_buffering` integer NOT NULL,
	`response_buffering` integer NOT NULL,
	`tags` text,
	`service_id` text,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE UNIQUE INDEX `routes_name_unique` ON `routes` (`name`);--> statement-breakpoint
CREATE INDEX `routes_service_id_idx` ON `routes` (`service_id`);--> statement-breakpoint
CREATE TABLE `services` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`name` text,
	`retries` integer NOT NULL,
	`protocol` text NOT NULL,
	`host` text NOT NULL,
	`port` integer NOT NULL,
	`path` text,
	`connect_timeout` integer NOT NULL,
	`write_timeout` integer NOT NULL,
	`read_timeout` integer NOT NULL,
	`tags` text,
	`client_certificate` text,
	`tls_verify` integer,
	`tls_verify_depth` integer,
	`ca_certificates` text,
	`enabled` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `services_name_unique` ON `services` (`name`);