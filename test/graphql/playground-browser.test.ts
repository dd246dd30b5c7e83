// The playground in a real browser, served by the compiled binary started from an empty directory, with
// every request that would leave the machine aborted: GraphiQL must load, run a query by clicking the run
// button and show the result. Uses Debian's Chromium (never a downloaded browser); the browser session runs
// in its own process (browser/playground-session.ts) and reports back here. Without Chromium the suite is one
// skipped line naming the package to install — except in CI (CI=true), where a skipped browser test would
// hide a broken playground, so it fails.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, PORTICO_ENTRIES } from "../../scripts/compile.ts";
import { type PorticoProcess, ROOT, startPortico } from "../support/process.ts";

const ARTIFACTS = join(ROOT, "test", "artifacts");
const SCREENSHOT = join(ARTIFACTS, "graphiql-playground.png");
const INSTALL_HINT = "install Debian's package: apt-get install chromium (or set CHROMIUM_PATH)";

/** CHROMIUM_PATH when set, else /usr/bin/chromium, else `chromium` on PATH; null when none exists. */
function findChromium(): string | null {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : null;
  if (existsSync("/usr/bin/chromium")) return "/usr/bin/chromium";
  return Bun.which("chromium");
}

const chromium = findChromium();

type Report = {
  aborted: string[];
  pageErrors: string[];
  assets: { url: string; encoding: string | null; cache: string | null }[];
  greeting: string;
  typed: string;
  result: string;
  docs: string;
  failure: string | null;
};

let buildDir: string | undefined;
let runDir: string;
let portico: PorticoProcess;

/** CI builds once and passes PORTICO_BINARY; otherwise build with the release flags into a temp dir. */
function binary(): string {
  const prebuilt = process.env.PORTICO_BINARY;
  if (prebuilt && existsSync(prebuilt)) return prebuilt;
  buildDir = mkdtempSync(join(tmpdir(), "portico-gql-build-"));
  return compile({ entries: PORTICO_ENTRIES, outfile: join(buildDir, "portico"), quiet: true });
}

if (chromium === null && process.env.CI === "true")
  test("Chromium is installed (CI runs the browser test, never skips it)", () => {
    throw new Error(`Chromium not found: ${INSTALL_HINT}`);
  });
else if (chromium === null) test.skip(`GraphiQL in a browser: Chromium not found; ${INSTALL_HINT}`, () => {});
else browserSuite(chromium);

function browserSuite(chromiumPath: string): void {
  beforeAll(async () => {
    const executable = binary();
    runDir = mkdtempSync(join(tmpdir(), "portico-gql-run-"));
    portico = await startPortico(
      [executable],
      ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--database", "./portico.db"],
      { cwd: runDir },
    );
    const created = await fetch(`${portico.adminUrl}/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "from-the-binary", url: "http://127.0.0.1:9/api" }),
    });
    expect(created.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await portico?.stop();
    rmSync(runDir, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  describe("GraphiQL from the compiled binary, offline", () => {
    test("loads, runs `{ services { data { name } } }` from the run button and shows the result", async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const session = Bun.spawn(
        [
          process.execPath,
          join(import.meta.dir, "browser", "playground-session.ts"),
          `${portico.adminUrl}/graphql`,
          SCREENSHOT,
        ],
        { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { ...process.env, CHROMIUM_PATH: chromiumPath } },
      );
      const [stdout, stderr, code] = await Promise.all([
        new Response(session.stdout).text(),
        new Response(session.stderr).text(),
        session.exited,
      ]);
      if (code !== 0) throw new Error(`browser session exited with ${code}:\n${stderr}`);
      const report = JSON.parse(stdout.trim().split("\n").pop()!) as Report;
      expect(report.failure).toBeNull();

      // A new user sees a default query with an example; the typed query ran and its result is shown.
      expect(report.greeting).toContain("Welcome to Portico");
      expect(report.typed).toContain("{ services { data { name } } }");
      expect(report.result).toContain('{"data":{"services":{"data":[{"name":"from-the-binary"}]}}}');
      expect(report.docs).toContain("Mutation");
      expect(existsSync(SCREENSHOT)).toBe(true);

      // Nothing tried to leave the machine, nothing failed in the page.
      expect(report.aborted).toEqual([]);
      expect(report.pageErrors).toEqual([]);
      // Every asset came from this listener, gzipped, cacheable forever.
      expect(report.assets.length).toBeGreaterThanOrEqual(3);
      for (const asset of report.assets) {
        expect(new URL(asset.url).origin).toBe(portico.adminUrl);
        expect(asset.cache).toContain("immutable");
        expect(asset.encoding).toBe("gzip");
      }
    }, 60_000);
  });
}
