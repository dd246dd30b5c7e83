// Shared pieces of the plugin suites: one real gateway and one recording upstream per describe block,
// configuration through the admin REST API only, and answers read back through the proxy.
import { expect } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { admin, startUpstream, type Upstream } from "../proxy/helpers.ts";

export { admin };

/** What the recording upstream saw, as it echoes it back. */
export type Echo = { method: string; target: string; headers: Record<string, string>; body: string };

export type Answer = {
  status: number;
  headers: Headers;
  /** Parsed JSON body (gateway answers and upstream echoes are JSON), or the raw text. */
  // biome-ignore lint/suspicious/noExplicitAny: bodies are arbitrary JSON
  body: any;
  text: string;
};

export type PluginWorld = {
  tg: TestGateway;
  upstream: Upstream;
  /** Sends a request through the proxy and reads the whole answer. */
  call(path: string, init?: RequestInit): Promise<Answer>;
  /** A request that must reach the upstream: returns what the upstream received. */
  pass(path: string, init?: RequestInit): Promise<Echo>;
  /** A request the gateway must refuse: checks status, message, request id and the JSON content type. */
  refused(path: string, init: RequestInit | undefined, status: number, message: unknown): Promise<Answer>;
  /** Creates a service (named) with one route per path, returns their ids. */
  service(name: string, paths: string[]): Promise<{ id: string; routes: string[] }>;
  /** Creates a consumer and returns it. */
  consumer(body: Record<string, unknown>): Promise<{ id: string; username: string | null }>;
  /** Waits until the proxy serves the latest configuration. */
  synced(): Promise<void>;
  stop(): Promise<void>;
};

export async function startWorld(
  gatewayArgs: string[] = [],
  options: { log?: (line: string) => void; database?: string } = {},
): Promise<PluginWorld> {
  const tg = await startTestGateway(gatewayArgs, options.database, { log: options.log });
  const upstream = startUpstream();
  const call = async (path: string, init?: RequestInit): Promise<Answer> => {
    const res = await tg.proxy(path, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body, text };
  };
  return {
    tg,
    upstream,
    call,
    async pass(path, init) {
      const answer = await call(path, init);
      expect({ path, status: answer.status, body: answer.status === 200 ? null : answer.body }).toEqual({
        path,
        status: 200,
        body: null,
      });
      return answer.body as Echo;
    },
    async refused(path, init, status, message) {
      const answer = await call(path, init);
      const requestId = answer.headers.get("x-portico-request-id");
      const expected =
        typeof message === "string"
          ? { message, request_id: requestId }
          : (message as Record<string, unknown>);
      expect({ status: answer.status, body: answer.body }).toEqual({ status, body: expected });
      expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
      return answer;
    },
    async service(name, paths) {
      const svc = await admin(tg, "POST", "/services", { name, url: upstream.url });
      const routes: string[] = [];
      for (const p of paths)
        routes.push((await admin(tg, "POST", `/services/${svc.id}/routes`, { paths: [p] })).id);
      return { id: svc.id, routes };
    },
    consumer: (body) => admin(tg, "POST", "/consumers", body),
    async synced() {
      if (!(await tg.gateway.synced())) throw new Error("the proxy did not catch up with the store");
    },
    async stop() {
      await tg.stop();
      await upstream.stop();
    },
  };
}

/** `Basic base64(user:password)`. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** Asserts that none of the secrets appear anywhere in a gateway answer (body or headers). */
export function expectNoSecrets(answer: Answer, secrets: readonly string[]): void {
  const everything = `${answer.text}\n${[...answer.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}`;
  for (const secret of secrets) expect(everything).not.toContain(secret);
}

const CONSUMER_HEADERS = [
  "x-consumer-id",
  "x-consumer-username",
  "x-consumer-custom-id",
  "x-credential-identifier",
  "x-anonymous-consumer",
  "x-consumer-groups",
] as const;

/** The identity headers the upstream received (absent ones as undefined). */
export function identity(echo: Echo): Record<string, string | undefined> {
  return Object.fromEntries(CONSUMER_HEADERS.map((h) => [h, echo.headers[h]]));
}

/** Expected identity headers: everything not given must be absent. */
export function expected(
  headers: Partial<Record<(typeof CONSUMER_HEADERS)[number], string>>,
): Record<string, string | undefined> {
  return Object.fromEntries(CONSUMER_HEADERS.map((h) => [h, headers[h]]));
}

/** POSTs a plugin that must be refused; returns Kong's schema-violation `fields` after checking code and status. */
export async function refusedConfig(
  w: PluginWorld,
  body: Record<string, unknown>,
  path = "/plugins",
): Promise<Record<string, unknown>> {
  const res = await w.tg.admin(path, { method: "POST", body });
  const answer = await res.json();
  expect({ status: res.status, code: answer.code, name: answer.name }).toEqual({
    status: 400,
    code: 2,
    name: "schema violation",
  });
  return answer.fields;
}

type Scope = "global" | "service" | "route" | "consumer";

/**
 * Kong's precedence for one plugin, observed through the proxy: a configuration is added at each scope from
 * the least to the most specific (global → service → route → consumer), and each must take over from the
 * previous; removing them again falls back step by step. `observe` sends a request on the route (as the
 * consumer, whose key it is given) and says which configuration acted. Uses a service and route of its own.
 */
export async function expectPrecedence(
  w: PluginWorld,
  plugin: string,
  configs: Partial<Record<Scope, Record<string, unknown>>>,
  observe: (path: string, headers: Record<string, string>) => Promise<Scope | "none">,
): Promise<void> {
  const tag = `${plugin}-precedence`;
  const { id: serviceId, routes } = await w.service(tag, [`/${tag}`]);
  const routeId = routes[0]!;
  const consumer = await w.consumer({ username: `${tag}-consumer` });
  await admin(w.tg, "POST", `/consumers/${consumer.id}/key-auth`, { key: `${tag}-key` });
  // The consumer is identified by key-auth on the route (consumer-scoped configurations need it).
  await admin(w.tg, "POST", `/routes/${routeId}/plugins`, { name: "key-auth" });
  const headers = { apikey: `${tag}-key` };
  const where: Record<Scope, string> = {
    global: "/plugins",
    service: `/services/${serviceId}/plugins`,
    route: `/routes/${routeId}/plugins`,
    consumer: `/consumers/${consumer.id}/plugins`,
  };
  const added: { scope: Scope; id: string }[] = [];
  const order: Scope[] = ["global", "service", "route", "consumer"];
  for (const scope of order) {
    const config = configs[scope];
    if (config === undefined) continue;
    const created = await admin(w.tg, "POST", where[scope], { name: plugin, config });
    added.push({ scope, id: created.id });
    await w.synced();
    expect({ added: scope, acted: await observe(`/${tag}`, headers) }).toEqual({
      added: scope,
      acted: scope,
    });
  }
  while (added.length > 0) {
    const removed = added.pop()!;
    await admin(w.tg, "DELETE", `/plugins/${removed.id}`);
    await w.synced();
    const expected = added.at(-1)?.scope ?? "none";
    expect({ removed: removed.scope, acted: await observe(`/${tag}`, headers) }).toEqual({
      removed: removed.scope,
      acted: expected,
    });
  }
}

/** Sends `n` requests at once and returns their statuses (bodies read), in order. */
export async function burst(n: number, send: (i: number) => Promise<Response>): Promise<number[]> {
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
  return Promise.all(
    answers.map(async (r) => {
      await r.arrayBuffer();
      return r.status;
    }),
  );
}

/** How many of `statuses` are `status`. */
export const countOf = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;
