ALTER TABLE `routes` ADD `sources` text;--> statement-breakpoint
ALTER TABLE `routes` ADD `destinations` text;