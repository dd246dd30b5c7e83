CREATE TABLE `acls` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`consumer_id` text NOT NULL,
	`group` text NOT NULL,
	`tags` text,
	FOREIGN KEY (`consumer_id`) REFERENCES `consumers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `acls_consumer_group_unique` ON `acls` (`consumer_id`,`group`);--> statement-breakpoint
CREATE TABLE `basicauth_credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`consumer_id` text NOT NULL,
	`username` text NOT NULL,
	`password` text NOT NULL,
	`tags` text,
	FOREIGN KEY (`consumer_id`) REFERENCES `consumers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `basicauth_credentials_username_unique` ON `basicauth_credentials` (`username`);--> statement-breakpoint
CREATE INDEX `basicauth_consumer_id_idx` ON `basicauth_credentials` (`consumer_id`);--> statement-breakpoint
CREATE TABLE `consumers` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`username` text,
	`custom_id` text,
	`tags` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `consumers_username_unique` ON `consumers` (`username`);--> statement-breakpoint
CREATE UNIQUE INDEX `consumers_custom_id_unique` ON `consumers` (`custom_id`);--> statement-breakpoint
CREATE TABLE `jwt_secrets` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`consumer_id` text NOT NULL,
	`key` text NOT NULL,
	`secret` text NOT NULL,
	`rsa_public_key` text,
	`algorithm` text NOT NULL,
	`tags` text,
	FOREIGN KEY (`consumer_id`) REFERENCES `consumers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jwt_secrets_key_unique` ON `jwt_secrets` (`key`);--> statement-breakpoint
CREATE INDEX `jwt_consumer_id_idx` ON `jwt_secrets` (`consumer_id`);--> statement-breakpoint
CREATE TABLE `keyauth_credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`consumer_id` text NOT NULL,
	`key` text NOT NULL,
	`ttl` integer,
	`tags` text,
	FOREIGN KEY (`consumer_id`) REFERENCES `consumers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `keyauth_credentials_key_unique` ON `keyauth_credentials` (`key`);--> statement-breakpoint
CREATE INDEX `keyauth_consumer_id_idx` ON `keyauth_credentials` (`consumer_id`);--> statement-breakpoint
CREATE TABLE `plugins` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`name` text NOT NULL,
	`instance_name` text,
	`route_id` text,
	`service_id` text,
	`consumer_id` text,
	`config` text NOT NULL,
	`protocols` text NOT NULL,
	`enabled` integer NOT NULL,
	`tags` text,
	FOREIGN KEY (`route_id`) REFERENCES `routes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`consumer_id`) REFERENCES `consumers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `plugins_instance_name_unique` ON `plugins` (`instance_name`);--> statement-breakpoint
CREATE INDEX `plugins_name_idx` ON `plugins` (`name`);--> statement-breakpoint
CREATE INDEX `plugins_route_id_idx` ON `plugins` (`route_id`);--> statement-breakpoint
CREATE INDEX `plugins_service_id_idx` ON `plugins` (`service_id`);--> statement-breakpoint
CREATE INDEX `plugins_consumer_id_idx` ON `plugins` (`consumer_id`);