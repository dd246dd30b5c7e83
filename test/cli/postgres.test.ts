// `--database postgres://…` as a user runs it: migrate, start and serve on the machine's PostgreSQL; an
// unreachable server or a bad URL is one line on stderr and exit code 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { runPortico, SOURCE_COMMAND, startPortico } from "../support/process.ts";

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];

describe.skipIf(!(await requirePostgres("CLI on PostgreSQL")))("portico on PostgreSQL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  test("migrate applies the embedded migrations, twice without harm", async () => {
    for (let i = 0; i < 2; i++) {
      const result = await runPortico(SOURCE_COMMAND, ["migrate", "--database", db.url]);
      expect(result).toEqual({
        code: 0,
        stdout: `portico: database ${db.url} is up to date (configuration version 0)\n`,
        stderr: "",
      });
    }
  });

  test("two nodes started on one database both serve what one of them wrote after a restart", async () => {
    const first = await startPortico(SOURCE_COMMAND, ["--database", db.url, ...LOOPBACK]);
    try {
      const res = await fetch(`${first.adminUrl}/services`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "pg-svc", url: "http://127.0.0.1:9/" }),
      });
      expect(res.status).toBe(201);
      const info = await (await fetch(`${first.adminUrl}/`)).json();
      expect(info.configuration.database).toBe("postgres");
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await startPortico(SOURCE_COMMAND, ["--database", db.url, ...LOOPBACK]);
    try {
      const svc = await (await fetch(`${second.adminUrl}/services/pg-svc`)).json();
      expect(svc.host).toBe("127.0.0.1");
    } finally {
      await second.stop();
    }
  });

  test("an unreachable server exits with code 2 and one line that hides the password", async () => {
    const result = await runPortico(SOURCE_COMMAND, [
      "migrate",
      "--database",
      "postgres://portico:s3cret@127.0.0.1:1/nothing",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(
      "portico: cannot open database 'postgres://portico:***@127.0.0.1:1/nothing'",
    );
    expect(result.stderr).not.toContain("s3cret");
  });
});
