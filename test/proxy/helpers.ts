// Shared pieces of the proxy suites: a real upstream that records what it receives, a raw-socket client
// for requests fetch cannot send, and configuration through the admin REST API.
import { expect } from "bun:test";
import net from "node:net";
import type { Server } from "bun";
import type { PluginCatalog } from "../../src/plugins/catalog.ts";
import { PluginInstancePool, standaloneEnv } from "../../src/plugins/instances.ts";
import { createProxy, type Proxy as ProxyEngine } from "../../src/proxy/index.ts";
import { buildSnapshot, type SnapshotInput } from "../../src/proxy/snapshot.ts";
import type { TestGateway } from "../harness.ts";

export type Received = {
  method: string;
  /** Path and query exactly as Bun's server saw them. */
  target: string;
  path: string;
  headers: Record<string, string>;
  /** Header pairs in order (repeated headers kept apart where Bun keeps them). */
  headerList: [string, string][];
  body: string;
};

export type Upstream = {
  url: string;
  port: number;
  server: Server<unknown>;
  received: Received[];
  stop(): Promise<void>;
};

type Handler = (request: Request, server: Server<unknown>) => Response | Promise<Response> | undefined;

function targetOf(url: string): string {
  return url.slice(url.indexOf("/", url.indexOf("//") + 2));
}

/**
 * A real Bun upstream. The default handler answers JSON describing the request; a custom handler runs after
 * the request is recorded (its body is then unread unless `readBody` is true).
 */
export function startUpstream(handler?: Handler, options: { readBody?: boolean } = {}): Upstream {
  const received: Received[] = [];
  const readBody = options.readBody ?? handler === undefined;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request, srv) {
      const target = targetOf(request.url);
      const record: Received = {
        method: request.method,
        target,
        path: target.split("?")[0]!,
        headers: Object.fromEntries(request.headers),
        headerList: [...request.headers],
        body: readBody ? await request.text() : "",
      };
      received.push(record);
      if (handler) return handler(request, srv);
      return Response.json({ method: record.method, target, headers: record.headers, body: record.body });
    },
    websocket: { message() {} },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port!,
    server,
    received,
    stop: () => server.stop(true),
  };
}

/**
 * Sends raw bytes (each character of `bytes` is one byte, latin1) to a listener and collects the whole
 * answer until the server closes or `ms` passes.
 */
export function rawRequest(port: number, bytes: string, ms = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes, "latin1"));
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on("data", (d) => {
      answer += d.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on("error", reject);
  });
}

/** Parses the head and body of one raw HTTP/1.1 answer (Content-Length or chunked). */
export function parseRaw(answer: string): { status: number; headers: Record<string, string>; body: string } {
  const end = answer.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = answer.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = answer.slice(end + 4);
  if (headers["transfer-encoding"] === "chunked") {
    let out = "";
    let rest = body;
    for (;;) {
      const lineEnd = rest.indexOf("\r\n");
      const size = Number.parseInt(rest.slice(0, lineEnd), 16);
      if (!size) break;
      out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body };
}

/** Admin call that must succeed; returns the parsed body. */
// biome-ignore lint/suspicious/noExplicitAny: admin replies are arbitrary JSON
export async function admin(tg: TestGateway, method: string, path: string, body?: unknown): Promise<any> {
  const res = await tg.admin(path, { method, body });
  const text = await res.text();
  expect({ status: res.status, path, text: res.ok ? "" : text }).toEqual({
    status: res.status,
    path,
    text: "",
  });
  return text ? JSON.parse(text) : null;
}

/** Creates a service and its routes through REST, then waits until the proxy serves them. */
export async function configure(
  tg: TestGateway,
  service: Record<string, unknown>,
  routes: Record<string, unknown>[],
): Promise<{ service: { id: string; name: string }; routes: { id: string; name: string }[] }> {
  const created = await admin(tg, "POST", "/services", service);
  const made = [];
  for (const route of routes) made.push(await admin(tg, "POST", `/services/${created.id}/routes`, route));
  await tg.gateway.synced();
  return { service: created, routes: made };
}

export const UUID_HEX32 = /^[0-9a-f]{32}$/;

/** A proxy engine built by the test itself (no gateway around it), served on a random loopback port. */
export function serveProxy(proxy: { fetch: unknown; websocket: unknown }): Server<unknown> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: proxy.fetch,
    websocket: proxy.websocket,
  } as Bun.Serve.Options<unknown>);
}

/** A proxy built by the test with test-only plugins (a catalog of their own), serving `input` on a random port. */
export function servePlugins(
  catalog: PluginCatalog,
  input: SnapshotInput,
  report: (line: string) => void = () => {},
): { proxy: ProxyEngine; pool: PluginInstancePool; server: Server<unknown>; base: string } {
  const proxy = createProxy({ bodyLimit: 1024 * 1024, report, errorLog: () => {} });
  const pool = new PluginInstancePool(
    standaloneEnv(() => {}),
    catalog,
  );
  proxy.swap(buildSnapshot(input, pool));
  const server = serveProxy(proxy);
  return { proxy, pool, server, base: `http://127.0.0.1:${server.port}` };
}
