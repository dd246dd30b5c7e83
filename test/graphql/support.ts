// Helpers for the GraphQL suites: operations over HTTP against a started gateway, as a client would send them.
import type { TestGateway } from "../harness.ts";

export type GraphqlError = {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: number; name?: string; fields?: Record<string, unknown>; [key: string]: unknown };
};

export type GraphqlResult<D = Record<string, unknown>> = {
  status: number;
  data: D | null | undefined;
  errors: GraphqlError[] | undefined;
};

/** POSTs one operation as application/json and returns the status with the parsed body. */
export async function gql<D = Record<string, unknown>>(
  gateway: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphqlResult<D>> {
  const response = await gateway.admin("/graphql", {
    method: "POST",
    headers: { accept: "application/graphql-response+json, application/json" },
    body: { query, variables },
  });
  const body = (await response.json()) as { data?: D | null; errors?: GraphqlError[] };
  return { status: response.status, data: body.data, errors: body.errors };
}

/** Like gql, but fails the test on any error and returns `data`. */
export async function gqlData<D = Record<string, unknown>>(
  gateway: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
): Promise<D> {
  const result = await gql<D>(gateway, query, variables);
  if (result.errors) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as D;
}

/** The single error of a result (fails when there is not exactly one). */
export function onlyError(result: GraphqlResult<unknown>): GraphqlError {
  if (result.errors?.length !== 1)
    throw new Error(`expected one error, got ${JSON.stringify(result.errors)}`);
  return result.errors[0]!;
}

/** REST call returning status and parsed JSON (null for an empty body). */
export async function rest(
  gateway: TestGateway,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const response = await gateway.admin(path, { method, body });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** `connect_timeout` → `connectTimeout`, recursively on keys (`@entity` and friends kept), as GraphQL reports. */
export function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k.startsWith("@") ? k : k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
      camelKeys(v),
    ]),
  );
}

/** A wire body (REST) as a GraphQL input: camelCase keys; route headers map → list. */
export function toInput(body: Record<string, unknown>): Record<string, unknown> {
  const input = camelKeys(body) as Record<string, unknown>;
  if (body.headers && typeof body.headers === "object" && !Array.isArray(body.headers))
    input.headers = Object.entries(body.headers as Record<string, string[]>).map(([name, values]) => ({
      name,
      values,
    }));
  return input;
}

export const SERVICE_FIELDS = `id name createdAt updatedAt retries protocol host port path connectTimeout writeTimeout
  readTimeout tags clientCertificate { id } tlsVerify tlsVerifyDepth caCertificates enabled`;

export const ROUTE_FIELDS = `id name createdAt updatedAt protocols methods hosts paths headers { name values } snis
  httpsRedirectStatusCode regexPriority stripPath pathHandling preserveHost requestBuffering responseBuffering tags
  sources { ip port } destinations { ip port }
  service { id }`;

/** A GraphQL service or route as REST renders it (wire names, headers as a map). */
export function toWireEntity(entity: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entity)) {
    const wire = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (key === "headers" && Array.isArray(value))
      out.headers = Object.fromEntries(
        (value as { name: string; values: string[] }[]).map((h) => [h.name, h.values]),
      );
    else out[wire] = value;
  }
  return out;
}
