// Black-box: file-log appends Kong's log record (plus custom fields) to a real file, one JSON document per
// line; `reopen` recreates a moved file; a file that cannot be opened never fails proxied traffic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { admin, type PluginWorld, refusedConfig, startWorld } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "portico-file-log-"));
const errors = join(dir, "error.log");
let w: PluginWorld;

beforeAll(async () => {
  w = await startWorld(["--error-log", errors]);
});

afterAll(async () => {
  await w.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The file's lines once one contains `needle` (polled). */
async function linesWith(path: string, needle: string): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const lines = (existsSync(path) ? readFileSync(path, "utf8") : "").split("\n").filter((l) => l !== "");
    if (lines.some((l) => l.includes(needle))) return lines;
    await Bun.sleep(25);
  }
  throw new Error(`no line with ${needle} in ${path}`);
}

describe("file-log", () => {
  test("one JSON document per request, Kong's log record with the custom fields", async () => {
    const path = join(dir, "requests.log");
    const { id: serviceId, routes } = await w.service("filed", ["/filed"]);
    await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
      name: "file-log",
      config: { path, custom_fields: { "env.name": "staging", agent: "$(request.headers.user-agent)" } },
    });
    await w.synced();
    const ids: string[] = [];
    for (const target of ["/filed/a?x=1", "/filed/b"]) {
      const answer = await w.call(target, { headers: { "user-agent": "file-log-test" } });
      expect(answer.status).toBe(200);
      ids.push(answer.headers.get("x-portico-request-id")!);
    }
    const lines = await linesWith(path, ids[1]!);
    expect(lines).toHaveLength(2);
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => [r.request.id, r.request.method, r.request.uri, r.response.status])).toEqual([
      [ids[0], "GET", "/filed/a?x=1", 200],
      [ids[1], "GET", "/filed/b", 200],
    ]);
    expect(records[0].request.querystring).toEqual({ x: "1" });
    expect(records[0].route).toEqual({ id: routes[0], name: null });
    expect(records[0].service).toEqual({ id: serviceId, name: "filed", host: "127.0.0.1" });
    expect(records[0].env).toEqual({ name: "staging" });
    expect(records[0].agent).toBe("file-log-test");
    expect(records[0].source).toBe("upstream");
  });

  test("reopen: a moved file is created again; without it, lines follow the moved file", async () => {
    for (const reopen of [true, false]) {
      const path = join(dir, `rotated-${reopen}.log`);
      const name = `rotated-${reopen}`;
      await w.service(name, [`/${name}`]);
      await admin(w.tg, "POST", `/services/${name}/plugins`, { name: "file-log", config: { path, reopen } });
      await w.synced();
      const first = (await w.call(`/${name}/1`)).headers.get("x-portico-request-id")!;
      await linesWith(path, first);
      renameSync(path, `${path}.1`);
      const second = (await w.call(`/${name}/2`)).headers.get("x-portico-request-id")!;
      if (reopen) {
        expect(await linesWith(path, second)).toHaveLength(1);
        expect(readFileSync(`${path}.1`, "utf8")).not.toContain(second);
      } else {
        expect(await linesWith(`${path}.1`, second)).toHaveLength(2);
        expect(existsSync(path)).toBe(false);
      }
    }
  });

  test("the record keeps the request's headers when only a consumer's log plugin reads them", async () => {
    // The service's own log hook (prometheus without bandwidth) needs no request headers; the consumer's
    // file-log, chosen only once key-auth has identified the consumer, needs them all.
    const path = join(dir, "consumer.log");
    await w.service("mixed-log", ["/mixed-log"]);
    const consumer = await w.consumer({ username: "mixed-logger" });
    await admin(w.tg, "POST", `/consumers/${consumer.id}/key-auth`, { key: "mixed-log-key" });
    await admin(w.tg, "POST", "/services/mixed-log/plugins", { name: "key-auth" });
    await admin(w.tg, "POST", "/services/mixed-log/plugins", {
      name: "prometheus",
      config: { status_code_metrics: true, latency_metrics: true },
    });
    await admin(w.tg, "POST", "/services/mixed-log/plugins", {
      name: "file-log",
      consumer: { id: consumer.id },
      config: { path },
    });
    await w.synced();
    const refused = await w.call("/mixed-log/y", { headers: { "x-marker": "refused" } });
    expect(refused.status).toBe(401);
    const answer = await w.call("/mixed-log/x", {
      headers: { apikey: "mixed-log-key", "x-marker": "kept", "user-agent": "mixed-log-test" },
    });
    expect(answer.status).toBe(200);
    const id = answer.headers.get("x-portico-request-id")!;
    const lines = await linesWith(path, id);
    // The refused request had no consumer: the consumer's file-log did not run for it.
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record.consumer.username).toBe("mixed-logger");
    expect(record.request.headers).toMatchObject({
      apikey: "mixed-log-key",
      "x-marker": "kept",
      "user-agent": "mixed-log-test",
    });
    // Request line, every header as received and the blank line.
    expect(record.request.size).toBeGreaterThan(
      "GET /mixed-log/x HTTP/1.1\r\napikey: mixed-log-key\r\nx-marker: kept\r\nuser-agent: mixed-log-test\r\n\r\n"
        .length,
    );
  });

  test("a file that cannot be opened: requests still pass, the error log says why", async () => {
    const path = join(dir, "no-such-dir", "x.log");
    await w.service("unopened", ["/unopened"]);
    const plugin = await admin(w.tg, "POST", "/services/unopened/plugins", {
      name: "file-log",
      config: { path },
    });
    await w.synced();
    for (let i = 0; i < 5; i++) expect((await w.call("/unopened/x")).status).toBe(200);
    const line = (await linesWith(errors, "failed to open the file")).find((l) => l.includes(plugin.id))!;
    expect(line).toContain("[error]");
    expect(line).toContain(`file-log ${plugin.id}: failed to open the file ${path} (ENOENT`);
  });

  test("Kong's validation and defaults", async () => {
    expect(await refusedConfig(w, { name: "file-log", config: {} })).toEqual({
      config: { path: "required field missing" },
    });
    expect(await refusedConfig(w, { name: "file-log", config: { path: "/tmp/a*b.log" } })).toEqual({
      config: { path: "not a valid filename" },
    });
    expect(await refusedConfig(w, { name: "file-log", config: { path: "/tmp/x.log " } })).toEqual({
      config: { path: "not a valid filename" },
    });
    const created = await admin(w.tg, "POST", "/plugins", {
      name: "file-log",
      enabled: false,
      config: { path: "/tmp/portico-file.log" },
    });
    expect(created.config).toEqual({
      path: "/tmp/portico-file.log",
      reopen: false,
      custom_fields_by_lua: null,
      custom_fields: null,
    });
  });
});
