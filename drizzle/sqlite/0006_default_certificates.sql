CREATE TABLE `default_certificates` (
	`id` text PRIMARY KEY NOT NULL,
	`cert` text NOT NULL,
	`key` text NOT NULL,
	`created_at` integer NOT NULL
);
