// The migrations compiled into the binary (migrations.generated.ts), in the shape drizzle's own runner reads
// from a migrations folder — which a binary started from another directory does not have.
import type { MigrationMeta } from "drizzle-orm/migrator";
import type { sqliteMigrations } from "./migrations.generated.ts";

export function embeddedMigrations(source: typeof sqliteMigrations): MigrationMeta[] {
  return source.journal.entries.map((entry) => {
    const text = source.files[entry.tag];
    if (text === undefined) throw new Error(`migration ${entry.tag} is not embedded`);
    return {
      sql: text.split("--> statement-breakpoint"),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: new Bun.CryptoHasher("sha256").update(text).digest("hex"),
    };
  });
}
