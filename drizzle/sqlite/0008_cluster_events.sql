CREATE TABLE `cluster_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel` text NOT NULL,
	`data` text NOT NULL,
	`origin` text NOT NULL,
	`at` integer NOT NULL
);
