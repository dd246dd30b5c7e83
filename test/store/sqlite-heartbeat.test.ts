// The SQLite heartbeat commits without the WAL fsync that admin writes wait for (it ran every 5 s on the
// proxy's thread with --workers 1: bench/README.md), and must leave the connection at `synchronous = FULL`
// afterwards, also when its write fails, so that the next admin write is as durable as before.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeRecord } from "../../src/store/contract.ts";
import { sqliteDialect } from "../../src/store/sqlite/dialect.ts";
import { openSqliteFile } from "../../src/store/sqlite/open-file.ts";

const dir = mkdtempSync(join(tmpdir(), "portico-heartbeat-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FULL = 2;

const node = (lastSeen: number): NodeRecord => ({
  id: "node-1",
  hostname: "host-a",
  version: "0.1.0",
  config_version: 3,
  started_at: 1000,
  last_seen: lastSeen,
  workers: 1,
});

describe("SQLite heartbeat", () => {
  test("upserts the node's row and leaves the connection at synchronous = FULL, also after a failed write", async () => {
    const file = await openSqliteFile(join(dir, "heartbeat.db"));
    const dialect = sqliteDialect(file);
    const synchronous = () =>
      (file.sqlite.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
    try {
      expect(synchronous()).toBe(FULL);
      await dialect.upsertNode(node(2000));
      await dialect.upsertNode({ ...node(2500), hostname: "host-b" });
      expect(file.sqlite.query("SELECT hostname, last_seen FROM cluster_nodes").all()).toEqual([
        { hostname: "host-b", last_seen: 2500 },
      ]);
      expect(synchronous()).toBe(FULL);
      await expect(
        dialect.upsertNode({ ...node(3000), hostname: null as unknown as string }),
      ).rejects.toThrow();
      expect(synchronous()).toBe(FULL);
    } finally {
      await dialect.close();
    }
  });
});
