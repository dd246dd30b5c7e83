// One GraphiQL session in Chromium, run as its own process by playground-browser.test.ts (so the browser
// driver's memory never lands in the test runner). Usage: bun playground-session.ts <graphql-url> <png>
// Prints one JSON report on stdout; the test makes the assertions.
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2) as [string, string];
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const QUERY = "{ services { data { name } } }";

const report = {
  aborted: [] as string[],
  pageErrors: [] as string[],
  assets: [] as { url: string; encoding: string | null; cache: string | null }[],
  greeting: "",
  typed: "",
  result: "",
  docs: "",
  failure: null as string | null,
};

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Nothing may leave the machine: every request to a non-loopback host is aborted (and reported).
  await context.route("**/*", (route) => {
    const target = new URL(route.request().url());
    const local =
      target.protocol === "blob:" || target.protocol === "data:" || LOOPBACK_HOSTS.has(target.hostname);
    if (local) return route.continue();
    report.aborted.push(target.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => report.pageErrors.push(error.message));
  // Content-Security-Policy violations and failed loads show up as console errors.
  page.on("console", (message) => {
    if (message.type() === "error") report.pageErrors.push(message.text());
  });
  page.on("response", (response) => {
    if (response.url().includes("/graphql/assets/"))
      report.assets.push({
        url: response.url(),
        encoding: response.headers()["content-encoding"] ?? null,
        cache: response.headers()["cache-control"] ?? null,
      });
  });

  await page.goto(url);
  const editor = page.locator(".graphiql-query-editor .monaco-editor").first();
  await editor.waitFor({ state: "visible", timeout: 20_000 });
  report.greeting = ((await page.locator(".graphiql-query-editor").textContent()) ?? "").replace(/\s+/g, " ");

  // Replace the editor's text (insertText: no auto-closed brackets), then press the run button.
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(QUERY);
  report.typed = ((await page.locator(".graphiql-query-editor .view-lines").textContent()) ?? "").replace(
    /\s+/g,
    " ",
  );
  await page.locator("button.graphiql-execute-button").click();
  const response = page.locator(".graphiql-response");
  await response.getByText('"name"').first().waitFor({ timeout: 20_000 });
  report.result = ((await response.textContent()) ?? "").replace(/\s+/g, "");

  // The schema arrived by introspection (within the query limits): the docs explorer lists the roots.
  await page.getByRole("button", { name: /documentation explorer/i }).click();
  const docs = page.locator(".graphiql-doc-explorer");
  await docs.getByText("Query", { exact: true }).first().waitFor({ timeout: 10_000 });
  report.docs = (await docs.textContent()) ?? "";

  await page.screenshot({ path: screenshot, fullPage: true });
} catch (error) {
  report.failure = String((error as Error).stack ?? error);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
