// DB-less mode as a user runs it: `portico --declarative-config FILE` as a real process (two proxy workers),
// Kong's 405 code 12 for entity writes (REST and GraphQL), POST /config swapping the whole configuration,
// SIGHUP reloading the file (a broken file keeps the running one), /status configuration_hash; and the CLI
// working through a running gateway's admin API (--admin-url). Kong's documented example file loads as is.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PorticoProcess, runPortico, SOURCE_COMMAND, startPortico } from "../support/process.ts";

const dir = mkdtempSync(join(tmpdir(), "portico-dbless-"));
const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];
let upstream: ReturnType<typeof Bun.serve>;
let gateway: PorticoProcess;
const file = join(dir, "kong.yaml");

const configFor = (path: string) => `_format_version: "3.0"
services:
  - name: svc
    url: http://127.0.0.1:${upstream.port}/up
    routes:
      - name: route
        paths: [${path}]
`;

beforeAll(async () => {
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => new Response(`upstream saw ${new URL(request.url).pathname}`),
  });
  writeFileSync(file, configFor("/first"));
  gateway = await startPortico(SOURCE_COMMAND, ["--declarative-config", file, ...LOOPBACK, "--workers", "2"]);
});
afterAll(async () => {
  await gateway?.stop();
  upstream.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

async function proxied(path: string): Promise<string> {
  const res = await fetch(gateway.proxyUrl + path);
  return `${res.status} ${await res.text()}`;
}

async function admin(path: string, init: RequestInit = {}) {
  const res = await fetch(gateway.adminUrl + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Polls until `check` holds (the machine is shared: generous deadline, no timing assertions). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}:\n${gateway.output()}`);
}

describe("DB-less mode", () => {
  test("serves the file from start; every proxy worker has it", async () => {
    expect(gateway.output()).toContain(
      `portico: declarative config '${file}' loaded (created 2, updated 0, deleted 0)`,
    );
    for (let i = 0; i < 6; i++) expect(await proxied("/first/x")).toBe("200 upstream saw /up/x");
    const status = await admin("/status");
    expect(status.body.configuration_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(status.body.configuration_hash).not.toBe("0".repeat(32));
    const root = await admin("/");
    expect(root.body.configuration.database).toBe("off");
    expect((await admin("/services")).body.data.map((s: { name: string }) => s.name)).toEqual(["svc"]);
  });

  test("entity writes answer Kong's 405 code 12, by verb and by id or name; reads work", async () => {
    const form = (body: Record<string, string>) => ({ body: new URLSearchParams(body) });
    const cases: [string, string, RequestInit, string][] = [
      [
        "POST",
        "/services",
        form({ name: "x", host: "x" }),
        "cannot create 'services' entities when not using a database",
      ],
      [
        "PATCH",
        "/services/svc",
        form({ retries: "1" }),
        "cannot update 'services' entities by 'name' when not using a database",
      ],
      [
        "PUT",
        "/routes/route",
        form({ paths: "/p" }),
        "cannot create or update 'routes' entities by 'name' when not using a database",
      ],
      ["DELETE", "/routes/route", {}, "cannot remove 'routes' entities by 'name' when not using a database"],
      [
        "POST",
        "/services/svc/routes",
        form({ paths: "/p" }),
        "cannot create 'routes' entities when not using a database",
      ],
      [
        "POST",
        "/consumers",
        form({ username: "u" }),
        "cannot create 'consumers' entities when not using a database",
      ],
      [
        "PATCH",
        "/services/8d5b2a3e-0b49-4c8e-9d4f-2a1b3c4d5e6f",
        form({ retries: "1" }),
        "cannot update 'services' entities when not using a database",
      ],
    ];
    for (const [method, path, init, message] of cases)
      expect({ method, path, ...(await admin(path, { method, ...init })) }).toEqual({
        method,
        path,
        status: 405,
        body: { code: 12, name: "operation unsupported", message },
      });
    const gql = await admin("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: 'mutation { addConsumer(input: {username: "g"}) { id } }' }),
    });
    expect(gql.body.errors[0].message).toBe("cannot create 'consumers' entities when not using a database");
    expect(gql.body.errors[0].extensions.code).toBe(12);
    expect(await proxied("/first/x")).toBe("200 upstream saw /up/x");
  });

  test("POST /config swaps the whole configuration; check_hash answers 304 for the running one", async () => {
    const res = await admin("/config", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ config: configFor("/posted") }),
    });
    expect(res.status).toBe(201);
    expect(res.body.routes.map((r: { paths: string[] }) => r.paths)).toEqual([["/posted"]]);
    expect(await proxied("/posted/x")).toBe("200 upstream saw /up/x");
    expect(await proxied("/first/x")).toStartWith("404");
    const again = await fetch(`${gateway.adminUrl}/config?check_hash=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ config: configFor("/posted") }),
    });
    expect(again.status).toBe(304);
    const exported = (await admin("/config")).body.config as string;
    expect(exported).toContain("- /posted");
  });

  test("SIGHUP reloads the file; a broken file keeps the running configuration and says why", async () => {
    writeFileSync(file, configFor("/reloaded"));
    gateway.proc.kill("SIGHUP");
    await eventually(async () => (await proxied("/reloaded/x")).startsWith("200"), "the reloaded file");
    expect(await proxied("/posted/x")).toStartWith("404");
    const hash = (await admin("/status")).body.configuration_hash;

    writeFileSync(file, `${configFor("/broken")}    plugins:\n      - name: no-such-plugin\n`);
    gateway.proc.kill("SIGHUP");
    await eventually(async () => gateway.output().includes("reload failed"), "the reload failure line");
    expect(gateway.output()).toContain(
      `portico: reload failed, still serving the previous configuration: invalid declarative config '${file}': ${file}: services[0].plugins[0] (plugin): name: plugin 'no-such-plugin' not enabled`,
    );
    expect(await proxied("/reloaded/x")).toBe("200 upstream saw /up/x");
    expect(await proxied("/broken/x")).toStartWith("404");
    expect((await admin("/status")).body.configuration_hash).toBe(hash);
  });

  test("the CLI through --admin-url: diff, apply, export against the running gateway", async () => {
    const local = join(dir, "local.yaml");
    writeFileSync(local, `${configFor("/reloaded")}consumers:\n  - username: remote\n`);
    const url = ["--admin-url", gateway.adminUrl];
    expect(await runPortico(SOURCE_COMMAND, ["config", "diff", local, ...url])).toEqual({
      code: 2,
      stdout: "creating consumer remote\nSummary: Created 1, Updated 0, Deleted 0\n",
      stderr: "",
    });
    expect((await runPortico(SOURCE_COMMAND, ["config", "apply", local, ...url])).code).toBe(0);
    expect((await runPortico(SOURCE_COMMAND, ["config", "diff", local, ...url])).code).toBe(0);
    const exported = await runPortico(SOURCE_COMMAND, ["config", "export", ...url, "--format", "json"]);
    expect(JSON.parse(exported.stdout).consumers).toEqual([{ id: expect.any(String), username: "remote" }]);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, '_format_version: "3.0"\nroutes:\n  - name: r\n    service: ghost\n');
    expect(await runPortico(SOURCE_COMMAND, ["config", "diff", bad, ...url])).toEqual({
      code: 1,
      stdout: "",
      stderr: `portico: invalid declarative configuration:\n  ${bad}: routes[0] (route r): service: invalid reference 'service: ghost' (no such entry in 'services')\n`,
    });
  });
});

describe("DB-less start-up", () => {
  test("a POST /config still arriving when the node is told to stop answers Kong's 503 (exiting), loads nothing", async () => {
    const own = join(dir, "exiting.yaml");
    writeFileSync(own, configFor("/before-exit"));
    const node = await startPortico(SOURCE_COMMAND, ["--declarative-config", own, ...LOOPBACK]);
    const encoder = new TextEncoder();
    const payload = JSON.stringify({ config: configFor("/after-exit") });
    let push: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = controller;
        controller.enqueue(encoder.encode(payload.slice(0, 20)));
      },
    });
    const answer = fetch(`${node.adminUrl}/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    await Bun.sleep(200);
    node.proc.kill("SIGTERM");
    const deadline = Date.now() + 15_000;
    while (!node.output().includes("SIGTERM received") && Date.now() < deadline) await Bun.sleep(20);
    push!.enqueue(encoder.encode(payload.slice(20)));
    push!.close();
    const res = await answer;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: "Portico currently exiting" });
    expect(await node.exited()).toBe(0);
    expect(node.output()).not.toContain("after-exit");
  });

  test("a broken file at start exits with code 2 and says why", async () => {
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, '_format_version: "3.0"\nservices:\n  - name: s\n');
    expect(await runPortico(SOURCE_COMMAND, ["--declarative-config", broken, ...LOOPBACK])).toEqual({
      code: 2,
      stdout: "",
      stderr: `portico: invalid declarative config '${broken}': ${broken}: services[0] (service s): host: required field missing\n`,
    });
    expect(
      (
        await runPortico(SOURCE_COMMAND, [...LOOPBACK], {
          env: { PORTICO_DECLARATIVE_CONFIG: join(dir, "none.yaml") },
        })
      ).stderr,
    ).toBe(`portico: cannot read declarative config '${join(dir, "none.yaml")}': ENOENT\n`);
  });

  test("Kong's documented example file (docs: DB-less and declarative configuration) runs as is", async () => {
    const example = join(dir, "kong-example.yaml");
    writeFileSync(
      example,
      `_format_version: "3.0"
_transform: true

services:
- name: my-service
  url: http://127.0.0.1:${upstream.port}
  plugins:
  - name: key-auth
  routes:
  - name: my-route
    paths:
    - /

consumers:
- username: my-user
  keyauth_credentials:
  - key: my-key
`,
    );
    const node = await startPortico(SOURCE_COMMAND, [
      "--declarative-config",
      example,
      ...LOOPBACK,
      "--workers",
      "1",
    ]);
    try {
      expect((await fetch(`${node.proxyUrl}/hello`)).status).toBe(401);
      const ok = await fetch(`${node.proxyUrl}/hello`, { headers: { apikey: "my-key" } });
      expect(`${ok.status} ${await ok.text()}`).toBe("200 upstream saw /hello");
    } finally {
      await node.stop();
    }
  });
});
