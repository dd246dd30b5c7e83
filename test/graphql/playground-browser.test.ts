// The playground in a real browser, served by the compiled binary started from an empty directory, with
// every request that would leave the machine aborted: GraphiQL must load, run a query by clicking the run
// button and show the result. Uses Debian's Chromium (never a downloaded browser).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { type PorticoProcess, ROOT, startPortico } from "../support/process.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test", "artifacts");
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

let buildDir: string | undefined;
let runDir: string;
let portico: PorticoProcess;
let browser: Browser;

/** CI builds once and passes PORTICO_BINARY; otherwise build with the release flags into a temp dir. */
function binary(): string {
  const prebuilt = process.env.PORTICO_BINARY;
  if (prebuilt && existsSync(prebuilt)) return prebuilt;
  buildDir = mkdtempSync(join(tmpdir(), "portico-gql-build-"));
  const outfile = join(buildDir, "portico");
  const build = Bun.spawnSync(
    [
      process.execPath,
      "build",
      "--compile",
      "--minify",
      "--bytecode",
      "--format=esm",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
      "src/main.ts",
      "--outfile",
      outfile,
    ],
    { cwd: ROOT },
  );
  if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stderr.toString()}`);
  return outfile;
}

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
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await portico?.stop();
  rmSync(runDir, { recursive: true, force: true });
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

describe("GraphiQL from the compiled binary, offline", () => {
  test("loads, runs `{ services { data { name } } }` from the run button and shows the result", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const aborted: string[] = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      const local = url.protocol === "blob:" || url.protocol === "data:" || LOOPBACK_HOSTS.has(url.hostname);
      if (local) return route.continue();
      aborted.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const assets: { url: string; encoding: string | null; cache: string | null }[] = [];
    page.on("response", (response) => {
      if (response.url().includes("/graphql/assets/"))
        assets.push({
          url: response.url(),
          encoding: response.headers()["content-encoding"] ?? null,
          cache: response.headers()["cache-control"] ?? null,
        });
    });

    await page.goto(`${portico.adminUrl}/graphql`);
    const editor = page.locator(".graphiql-query-editor .monaco-editor").first();
    await editor.waitFor({ state: "visible", timeout: 20_000 });
    // The default query greets a new user with an example.
    const greeting = ((await page.locator(".graphiql-query-editor").textContent()) ?? "").replace(
      /\s+/g,
      " ",
    );
    expect(greeting).toContain("Welcome to Portico");

    // Replace the editor's text with the query (insertText: no auto-closing brackets).
    await editor.click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText("{ services { data { name } } }");
    await page.locator("button.graphiql-execute-button").click();

    const response = page.locator(".graphiql-response");
    await expect(
      response
        .getByText('"from-the-binary"')
        .waitFor({ timeout: 20_000 })
        .then(() => true),
    ).resolves.toBe(true);
    const shown = ((await response.textContent()) ?? "").replace(/\s+/g, "");
    expect(shown).toContain('{"data":{"services":{"data":[{"name":"from-the-binary"}]}}}');

    // The schema arrived by introspection (within the query limits): the docs explorer lists the roots.
    await page.getByRole("button", { name: /documentation explorer/i }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByText("Query", { exact: true }).first().waitFor({ timeout: 10_000 });
    expect(await docs.textContent()).toContain("Mutation");

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "graphiql-playground.png"), fullPage: true });

    expect(aborted).toEqual([]);
    expect(pageErrors).toEqual([]);
    // Every asset came from this listener, gzipped, cacheable forever.
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(new URL(asset.url).origin).toBe(portico.adminUrl);
      expect(asset.cache).toContain("immutable");
      expect(asset.encoding).toBe("gzip");
    }
    await context.close();
  }, 60_000);
});
