// The compiled executable, started from an empty directory: catches embedding and path mistakes that
// source-mode tests cannot (migrations, assets, .env/bunfig autoloading).
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { ROOT, runPortico, startPortico } from "../support/process.ts";

/** CI builds once and passes PORTICO_BINARY; a plain `bun test` builds it here. */
const binary = process.env.PORTICO_BINARY ?? join(ROOT, "dist", "portico");

beforeAll(async () => {
  if (process.env.PORTICO_BINARY && existsSync(binary)) return;
  const build = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "build.ts")], { cwd: ROOT });
  if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stderr.toString()}`);
}, 120_000);

/** The commit of this checkout, as the build stamps it (12 hex digits). */
function checkoutCommit(): string {
  const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: ROOT });
  if (head.exitCode !== 0) throw new Error("the binary test needs the git checkout it was built from");
  return head.stdout.toString().trim();
}

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];

describe("dist/portico", () => {
  test("prints its version with the commit and date it was built from, and its Bun", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "portico-bin-"));
    const result = await runPortico([binary], ["version"], { cwd });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const [first, commit, built, bun, rest] = result.stdout.split("\n");
    expect(first).toBe(`portico ${pkg.version}`);
    expect(commit).toMatch(new RegExp(`^commit  ${checkoutCommit()}(-dirty)?$`));
    const date = /^built {3}(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/.exec(built ?? "")?.[1];
    expect(date).toBeDefined();
    // Built before this test ran (CI builds minutes earlier), and not in the future.
    expect(Date.parse(date!)).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - Date.parse(date!)).toBeLessThan(24 * 3600 * 1000);
    expect(bun).toBe(`bun     ${Bun.version} (${process.platform}-${process.arch})`);
    expect(rest).toBe("");
    expect((await runPortico([binary], ["--version"], { cwd })).stdout).toBe(result.stdout);
  });

  test("migrates a new database in another directory with its embedded migrations", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "portico-bin-"));
    const result = await runPortico([binary], ["migrate", "--database", "./fresh.db"], { cwd });
    expect(result.code).toBe(0);
    expect(existsSync(join(cwd, "fresh.db"))).toBe(true);
  });

  test("serves the admin API and the proxy; ignores .env and bunfig.toml in its working directory", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "portico-bin-"));
    // If the binary autoloaded these, the seed URLs would be off and the admin listener would move.
    writeFileSync(join(cwd, ".env"), "PORTICO_SERVICE_MANAGEMENT=off\nPORTICO_ADMIN_LISTEN=127.0.0.1:1\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./does-not-exist.ts"]\n');
    const gateway = await startPortico([binary], LOOPBACK, { cwd });
    try {
      expect(existsSync(join(cwd, "portico.db"))).toBe(true);
      const created = await fetch(`${gateway.adminUrl}/services`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "bin-svc", url: "http://127.0.0.1:9/api" }),
      });
      expect(created.status).toBe(201);
      const route = await fetch(`${gateway.adminUrl}/services/bin-svc/routes`, {
        method: "POST",
        body: new URLSearchParams({ "paths[]": "/bin" }),
      });
      expect(route.status).toBe(201);
      const seed = await fetch(`${gateway.adminUrl}/service?ip=127.0.0.1&port=9&name_service=seeded`, {
        method: "POST",
      });
      expect(seed.status).toBe(201);
      expect(await seed.json()).toBe(true);
      const list = (await (await fetch(`${gateway.adminUrl}/services`)).json()) as {
        data: { name: string }[];
      };
      expect(list.data.map((s) => s.name).sort()).toEqual(["bin-svc", "seeded"]);
      const info = (await (await fetch(`${gateway.adminUrl}/`)).json()) as { version: string };
      expect(info.version).toBe(pkg.version);
      const unmatched = await fetch(`${gateway.proxyUrl}/nothing-here`);
      expect(unmatched.status).toBe(404);
      expect(((await unmatched.json()) as { message: string }).message).toBe(
        "no Route matched with those values",
      );
    } finally {
      expect(await gateway.stop("SIGTERM")).toBe(0);
    }
  });

  test("with the default workers and a port the system picks, GET / names the proxy port the workers then serve", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "portico-bin-"));
    const proc = Bun.spawn([binary, ...LOOPBACK], {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const reader = proc.stdout.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const lineMatching = async (pattern: RegExp) => {
        for (let match = pattern.exec(text); ; match = pattern.exec(text)) {
          if (match) return match[1]!;
          const chunk = await reader.read();
          if (chunk.done) throw new Error(`portico exited:\n${text}`);
          text += decoder.decode(chunk.value, { stream: true });
        }
      };
      // Asked as soon as the admin API listens, without waiting for the proxy's line.
      const adminUrl = await lineMatching(/admin API listening on (\S+)/);
      const node = await fetch(`${adminUrl}/`);
      expect(node.status).toBe(200);
      const { configuration } = (await node.json()) as { configuration: { proxy_listen: string[] } };
      const named = /^127\.0\.0\.1:(\d+) reuseport$/.exec(configuration.proxy_listen[0] ?? "")?.[1];
      expect(Number(named)).toBeGreaterThan(0);
      const proxyUrl = await lineMatching(/proxy listening on (\S+)/);
      expect(proxyUrl).toBe(`http://127.0.0.1:${named}`);
      // Every new connection reaches a worker (no route yet: Kong's 404), none the port's reservation.
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`${proxyUrl}/nothing-here`, { headers: { connection: "close" } });
        expect(response.status).toBe(404);
        await response.arrayBuffer();
      }
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });
});
