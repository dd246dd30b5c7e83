// The command line as a user runs it: real processes, exit codes, stderr lines, signals, durability.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { runPortico, SOURCE_COMMAND, startPortico } from "../support/process.ts";

const dir = mkdtempSync(join(tmpdir(), "portico-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];

/** One line on stderr, exit code 2, no stack trace. */
function expectUsageError(result: { code: number; stderr: string }, text: string) {
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(text);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).not.toContain("    at ");
}

describe("portico CLI", () => {
  test("version, --version and -v say the version first, then that this is a source run, and the Bun", async () => {
    const expected = [
      `portico ${pkg.version}`,
      "commit  none (running from source)",
      "built   none (running from source)",
      `bun     ${Bun.version} (${process.platform}-${process.arch})`,
      "",
    ].join("\n");
    for (const args of [["version"], ["--version"], ["-v"], ["start", "--version"]])
      expect(await runPortico(SOURCE_COMMAND, args)).toEqual({ code: 0, stdout: expected, stderr: "" });
  });

  test("--help", async () => {
    const help = await runPortico(SOURCE_COMMAND, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: portico [command] [options]");
    expect(help.stdout).toContain("--no-service-management");
  });

  test("a bad flag, a bad value and an unknown command exit with code 2", async () => {
    expectUsageError(await runPortico(SOURCE_COMMAND, ["--bogus"]), "Unknown option '--bogus'");
    expectUsageError(
      await runPortico(SOURCE_COMMAND, ["--admin-listen", "nowhere"]),
      "portico: --admin-listen: expected HOST:PORT [ssl] [http2] [http3], got 'nowhere'",
    );
    expectUsageError(await runPortico(SOURCE_COMMAND, ["serve"]), "unknown command 'serve'");
  });

  test("an unwritable database path exits with code 2", async () => {
    const result = await runPortico(SOURCE_COMMAND, ["--database", "/proc/portico/nope.db", ...LOOPBACK]);
    expectUsageError(result, "portico: cannot open database '/proc/portico/nope.db'");
  });

  test("a port already in use exits with code 2", async () => {
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const result = await runPortico(SOURCE_COMMAND, [
        "--database",
        ":memory:",
        "--proxy-listen",
        "127.0.0.1:0",
        "--admin-listen",
        `127.0.0.1:${blocker.port}`,
      ]);
      expectUsageError(
        result,
        `portico: admin listener: address 127.0.0.1:${blocker.port} is already in use`,
      );
    } finally {
      blocker.stop(true);
    }
  });

  test("migrate creates the schema and exits", async () => {
    const db = join(dir, "migrate.db");
    const result = await runPortico(SOURCE_COMMAND, ["migrate", "--database", db]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`portico: database ${db} is up to date (configuration version 0)\n`);
    const sqlite = new Database(db, { readonly: true });
    const tables = sqlite
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((t) => t.name);
    const journal = sqlite.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get();
    sqlite.close();
    expect(tables).toEqual([
      "__drizzle_migrations",
      "acls",
      "basicauth_credentials",
      "ca_certificates",
      "certificates",
      "cluster_events",
      "cluster_nodes",
      "config_events",
      "config_state",
      "consumers",
      "default_certificates",
      "jwt_secrets",
      "keyauth_credentials",
      "plugins",
      "ratelimiting_metrics",
      "routes",
      "services",
      "snis",
      // cluster_events' AUTOINCREMENT: an id is never given twice, even once every event is pruned.
      "sqlite_sequence",
      "targets",
      "upstreams",
    ]);
    expect(journal?.journal_mode).toBe("wal");
    // Running it again is a no-op.
    expect((await runPortico(SOURCE_COMMAND, ["migrate", "--database", db])).code).toBe(0);
  });

  test("start prints one line per listener; SIGTERM and SIGINT stop it with exit code 0", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const gateway = await startPortico(SOURCE_COMMAND, [
        "--database",
        join(dir, `${signal}.db`),
        ...LOOPBACK,
      ]);
      // The admin API listens first (the proxy workers start meanwhile); the proxy's line follows once every
      // worker listens and serves the first snapshot.
      expect(gateway.output()).toMatch(
        /^portico .+: admin API listening on http:\/\/127\.0\.0\.1:\d+\nportico .+: proxy listening on http:\/\/127\.0\.0\.1:\d+ \(\d+ workers\)\n/,
      );
      const status = await fetch(`${gateway.adminUrl}/status`);
      expect(status.status).toBe(200);
      expect(await gateway.stop(signal)).toBe(0);
      expect(gateway.output()).toContain("portico: stopped");
    }
  });

  test("environment variables configure the listeners and the seed URLs", async () => {
    const gateway = await startPortico(SOURCE_COMMAND, [], {
      env: {
        PORTICO_DATABASE: join(dir, "env.db"),
        PORTICO_PROXY_LISTEN: "127.0.0.1:0",
        PORTICO_ADMIN_LISTEN: "127.0.0.1:0",
        PORTICO_SERVICE_MANAGEMENT: "off",
      },
    });
    try {
      const seed = await fetch(`${gateway.adminUrl}/service?ip=127.0.0.1&port=80&name_service=x`, {
        method: "POST",
      });
      expect(seed.status).toBe(404);
      const info = (await (await fetch(`${gateway.adminUrl}/`)).json()) as {
        configuration: { database_location: string };
      };
      expect(info.configuration.database_location).toBe(join(dir, "env.db"));
    } finally {
      await gateway.stop();
    }
  });

  test("every write answered 2xx survives kill -9 immediately after", async () => {
    const db = join(dir, "durable.db");
    const first = await startPortico(SOURCE_COMMAND, ["--database", db, ...LOOPBACK]);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const response = await fetch(`${first.adminUrl}/services`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: `durable-${i}`, host: "example.com" }),
      });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const patched = await fetch(`${first.adminUrl}/services/durable-0`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ retries: 9 }),
    });
    expect(patched.status).toBe(200);
    expect(await first.stop("SIGKILL")).not.toBe(0);

    const second = await startPortico(SOURCE_COMMAND, ["--database", db, ...LOOPBACK]);
    try {
      const list = (await (await fetch(`${second.adminUrl}/services?size=1000`)).json()) as {
        data: { id: string; name: string; retries: number }[];
      };
      expect(list.data.map((s) => s.id).sort()).toEqual([...ids].sort());
      expect(list.data.find((s) => s.name === "durable-0")?.retries).toBe(9);
    } finally {
      await second.stop();
    }
  });
  test("SIGTERM lets an in-flight request finish before exiting", async () => {
    // An upstream that accepts and never answers: the refresh probe waits for its 2 s timeout.
    const silent = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Promise<Response>(() => {}),
    });
    const gateway = await startPortico(SOURCE_COMMAND, ["--database", join(dir, "drain.db"), ...LOOPBACK]);
    try {
      const created = await fetch(
        `${gateway.adminUrl}/service?ip=127.0.0.1&port=${silent.port}&name_service=slow`,
        {
          method: "POST",
        },
      );
      expect(created.status).toBe(201);
      const inFlight = fetch(`${gateway.adminUrl}/services`, { method: "PATCH" });
      await Bun.sleep(200);
      gateway.proc.kill("SIGTERM");
      const response = await inFlight;
      expect(response.status).toBe(200);
      const [health] = (await response.json()) as { name: string; up: boolean; error: string }[];
      expect(health).toMatchObject({ name: "slow", up: false, error: "timeout" });
      expect(await gateway.exited()).toBe(0);
      expect(gateway.output()).toContain("portico: stopped");
      // New connections are refused once it has stopped.
      expect(fetch(`${gateway.adminUrl}/status`)).rejects.toThrow();
    } finally {
      silent.stop(true);
    }
  });
});
