// Shared helpers of the admin REST suites: a response reader and the fully rendered Kong entities with
// their defaults, so every assertion can compare a whole body with toEqual.
import { expect } from "bun:test";
import type { TestGateway } from "../harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: replies are arbitrary JSON, compared whole with toEqual
export type Reply = { status: number; body: any; text: string; headers: Headers };

type Init = Parameters<TestGateway["admin"]>[1];

/** Sends one admin request and reads the whole answer (JSON parsed when there is any). */
export async function call(tg: TestGateway, path: string, init?: Init): Promise<Reply> {
  const res = await tg.admin(path, init);
  const text = await res.text();
  let body: unknown = null;
  if (text !== "") {
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    body = JSON.parse(text);
  }
  return { status: res.status, body, text, headers: res.headers };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const SERVICE_DEFAULTS = {
  name: null,
  retries: 5,
  protocol: "http",
  port: 80,
  path: null,
  connect_timeout: 60000,
  write_timeout: 60000,
  read_timeout: 60000,
  tags: null,
  client_certificate: null,
  tls_verify: null,
  tls_verify_depth: null,
  ca_certificates: null,
  enabled: true,
};

export const ROUTE_DEFAULTS = {
  name: null,
  protocols: ["http", "https"],
  methods: null,
  hosts: null,
  paths: null,
  headers: null,
  snis: null,
  https_redirect_status_code: 426,
  regex_priority: 0,
  strip_path: true,
  path_handling: "v0",
  preserve_host: false,
  request_buffering: true,
  response_buffering: true,
  tags: null,
  sources: null,
  destinations: null,
  service: null,
};

type Stamped = { id: string; created_at: number; updated_at: number };

/** Checks the generated id and integer-second timestamps, then returns them for the expected body. */
export function stamps(body: Stamped, notBefore = 0): Stamped {
  expect(body.id).toMatch(UUID);
  for (const t of [body.created_at, body.updated_at]) {
    expect(Number.isInteger(t)).toBe(true);
    expect(t).toBeGreaterThanOrEqual(notBefore);
    expect(t).toBeLessThanOrEqual(nowSeconds() + 1);
  }
  return { id: body.id, created_at: body.created_at, updated_at: body.updated_at };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function service(body: Stamped, fields: Record<string, unknown> = {}) {
  return { ...stamps(body), ...SERVICE_DEFAULTS, ...fields };
}

export function route(body: Stamped, fields: Record<string, unknown> = {}) {
  return { ...stamps(body), ...ROUTE_DEFAULTS, ...fields };
}

/** Kong's schema-violation body for one or more field errors (message sorted by field, `@entity` first). */
export function schemaViolation(fields: Record<string, unknown>, parts: string[]) {
  const message =
    parts.length === 1
      ? `schema violation (${parts[0]})`
      : `${parts.length} schema violations (${parts.join("; ")})`;
  return { code: 2, name: "schema violation", message, fields };
}

export const NOT_FOUND = { message: "Not found" };
export const METHOD_NOT_ALLOWED = { message: "Method not allowed" };

export const nameError = (value: string) =>
  `invalid value '${value}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`;

export function invalidUniqueName(value: string) {
  return { code: 10, name: "invalid unique name", message: nameError(value) };
}

export function uniqueViolation(name: string) {
  return {
    code: 5,
    name: "unique constraint violation",
    message: `UNIQUE violation detected on '{name="${name}"}'`,
    fields: { name },
  };
}

export async function createService(tg: TestGateway, body: Record<string, unknown>) {
  const reply = await call(tg, "/services", { method: "POST", body });
  expect(reply.status).toBe(201);
  return reply.body;
}

export async function createRoute(tg: TestGateway, body: Record<string, unknown>) {
  const reply = await call(tg, "/routes", { method: "POST", body });
  expect(reply.status).toBe(201);
  return reply.body;
}
