// The embedded SQLite migrations at start: a database that has them all is opened without running drizzle's
// runner again (one query of the newest applied migration), and one that misses the newest still gets it.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteMigrations } from "../../src/store/migrations.generated.ts";
import { openStore } from "../../src/store/open.ts";

const dir = mkdtempSync(join(tmpdir(), "portico-migrations-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EMBEDDED = sqliteMigrations.journal.entries.length;

function applied(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.query("SELECT created_at FROM __drizzle_migrations ORDER BY created_at").all() as {
        created_at: number;
      }[]
    ).map((row) => Number(row.created_at));
  } finally {
    db.close();
  }
}

describe("SQLite migrations at start", () => {
  test("an up-to-date database opens again and again with each migration recorded once, its data kept", async () => {
    const file = join(dir, "again.db");
    const first = await openStore(file);
    await first.entity("services").insert({ name: "kept", host: "example.com" });
    await first.close();
    const recorded = applied(file);
    expect(recorded).toEqual(sqliteMigrations.journal.entries.map((entry) => entry.when));
    for (let i = 0; i < 2; i++) {
      const store = await openStore(file);
      expect((await store.entity("services").all()).map((s) => s.name)).toEqual(["kept"]);
      await store.close();
    }
    expect(applied(file)).toEqual(recorded);
  });

  test("a database missing the newest migration gets it when opened", async () => {
    const file = join(dir, "behind.db");
    await (await openStore(file)).close();
    // Undo the newest migration (it creates cluster_events) and forget it was applied.
    const db = new Database(file);
    db.run("DROP TABLE cluster_events");
    db.run(
      "DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)",
    );
    db.close();
    expect(applied(file)).toHaveLength(EMBEDDED - 1);
    const store = await openStore(file);
    try {
      expect(applied(file)).toHaveLength(EMBEDDED);
      // The table is back: a cluster-wide message can be sent and read again.
      await store.broadcast("test-channel", "hello");
    } finally {
      await store.close();
    }
  });
});
