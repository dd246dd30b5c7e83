// Starts the real gateway in-process on random ports with a real SQLite file, for black-box suites.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/runtime/config.ts";
import { type Gateway, startGateway } from "../src/runtime/server.ts";
import { createTestDatabase, TEST_STORE } from "./support/postgres.ts";

export type TestGateway = {
  gateway: Gateway;
  adminUrl: string;
  proxyUrl: string;
  dir: string;
  databasePath: string;
  /** fetch against the admin listener; `body` objects are sent as JSON. */
  admin(path: string, init?: AdminInit): Promise<Response>;
  /** fetch against the proxy listener. */
  proxy(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
};

type AdminInit = Omit<RequestInit, "body"> & { body?: unknown };

export async function startTestGateway(
  extraArgs: string[] = [],
  databasePath?: string,
  options: { log?: (line: string) => void } = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), "portico-test-"));
  // With PORTICO_TEST_STORE=postgres every suite that lets the harness choose runs on a fresh PostgreSQL database.
  const pg = databasePath === undefined && TEST_STORE === "postgres" ? await createTestDatabase() : undefined;
  const db = databasePath ?? pg?.url ?? join(dir, "portico.db");
  const config = loadConfig(
    [
      "start",
      "--database",
      db,
      "--proxy-listen",
      "127.0.0.1:0",
      "--admin-listen",
      "127.0.0.1:0",
      // One proxy worker (in the test's own thread) unless the suite asks for more.
      ...(extraArgs.includes("--workers") ? [] : ["--workers", "1"]),
      // The error log goes to the test's directory (not the test runner's stderr) unless the suite asks.
      ...(extraArgs.includes("--error-log") ? [] : ["--error-log", join(dir, "error.log")]),
      ...extraArgs,
    ],
    {},
  );
  const gateway = await startGateway(config, { log: options.log ?? (() => {}) });
  return {
    gateway,
    adminUrl: gateway.adminUrl,
    proxyUrl: gateway.proxyUrl,
    dir,
    databasePath: db,
    admin(path, init = {}) {
      const { body, ...rest } = init;
      const headers = new Headers(rest.headers);
      let payload: string | URLSearchParams | FormData | undefined;
      if (body !== undefined) {
        if (typeof body === "string" || body instanceof URLSearchParams || body instanceof FormData)
          payload = body;
        else {
          payload = JSON.stringify(body);
          if (!headers.has("content-type")) headers.set("content-type", "application/json");
        }
      }
      return fetch(gateway.adminUrl + path, { ...rest, headers, body: payload });
    },
    proxy: (path, init) => fetch(gateway.proxyUrl + path, init),
    async stop() {
      await gateway.stop();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
