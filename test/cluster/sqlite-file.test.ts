// Two `portico start` on one SQLite file (the first example): each serves what the other writes
// within a second — SQLite's data_version tells a process that another one committed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PorticoProcess, SOURCE_COMMAND, startPortico } from "../support/process.ts";

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];
const dir = mkdtempSync(join(tmpdir(), "portico-shared-file-"));
let a: PorticoProcess;
let b: PorticoProcess;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  const database = join(dir, "shared.db");
  upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  a = await startPortico(SOURCE_COMMAND, ["--database", database, ...LOOPBACK]);
  b = await startPortico(SOURCE_COMMAND, ["--database", database, ...LOOPBACK]);
});
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
  upstream.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

async function post(node: PorticoProcess, path: string, body: unknown) {
  const res = await fetch(`${node.adminUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
}

async function servedWithin(node: PorticoProcess, path: string, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const res = await fetch(`${node.proxyUrl}${path}`);
    await res.arrayBuffer();
    if (res.status === 200) return true;
    await Bun.sleep(10);
  }
  return false;
}

test("a write through one process is served by the other within a second, both ways", async () => {
  await post(a, "/services", { name: "s", url: `http://127.0.0.1:${upstream.port}` });
  await post(a, "/services/s/routes", { paths: ["/from-a"] });
  expect(await servedWithin(b, "/from-a", 1000)).toBe(true);
  await post(b, "/services/s/routes", { paths: ["/from-b"] });
  expect(await servedWithin(a, "/from-b", 1000)).toBe(true);
  const status = await (await fetch(`${b.adminUrl}/status`)).json();
  expect(status.proxy_configuration_version).toBe(status.configuration_version);
});
