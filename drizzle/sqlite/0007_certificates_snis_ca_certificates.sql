CREATE TABLE `ca_certificates` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`cert` text NOT NULL,
	`cert_digest` text,
	`tags` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ca_certificates_cert_digest_unique` ON `ca_certificates` (`cert_digest`);--> statement-breakpoint
CREATE TABLE `certificates` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`cert` text NOT NULL,
	`key` text NOT NULL,
	`cert_alt` text,
	`key_alt` text,
	`tags` text
);
--> statement-breakpoint
CREATE TABLE `snis` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`tags` text,
	`certificate_id` text NOT NULL,
	FOREIGN KEY (`certificate_id`) REFERENCES `certificates`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `snis_name_unique` ON `snis` (`name`);