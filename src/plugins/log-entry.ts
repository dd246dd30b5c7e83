// What the log phase knows about one finished request: the facts every logger needs (status, sizes, the three
// latencies, who and where), and Kong's log serializer record (kong/pdk/log.lua serialize()) built from them on
// first use. The access log, metrics and the log plugins all read this one entry, so they agree.
import type { ConsumerIdentity } from "./contract.ts";

/** Milliseconds, as Kong's `latencies`. */
export type LogLatencies = {
  /** Time the gateway spent before the upstream call (or until its own answer, when it answered itself). */
  kong: number;
  /** Wait for the upstream's response head; -1 when the request never reached the upstream. */
  proxy: number;
  /** From the first byte received to the response handed over (streamed bodies: to their last byte). */
  request: number;
  /** Reading the upstream's body, when the gateway read it (buffered or counted); otherwise 0. */
  receive: number;
};

/** One upstream attempt (Kong's balancer `tries`). */
export type LogTry = {
  ip: string;
  port: number;
  /** Epoch milliseconds when the attempt started. */
  balancer_start: number;
  balancer_latency: number;
  /** Only on failed attempts: why, and the status the failure maps to. */
  state?: "failed";
  code?: number;
};

/** Kong's log serializer shape. Route, service and consumer are the entities as configured. */
export type LogRecord = {
  request: {
    id: string;
    uri: string;
    url: string;
    querystring: Record<string, string | string[] | true>;
    method: string;
    headers: Record<string, string>;
    size: number;
    tls?: { version: string; cipher: string; client_verify: string };
  };
  upstream_uri: string;
  upstream_status: string;
  response: { status: number; headers: Record<string, string>; size: number };
  latencies: LogLatencies;
  tries: LogTry[];
  authenticated_entity?: { id: string; consumer_id: string };
  route?: Record<string, unknown>;
  service?: Record<string, unknown>;
  consumer?: Record<string, unknown>;
  client_ip: string;
  started_at: number;
  source: "upstream" | "kong";
  workspace: string;
  workspace_name: string;
  [custom: string]: unknown;
};

export interface LogEntry {
  readonly requestId: string;
  /** Epoch milliseconds when the request arrived. */
  readonly startedAt: number;
  readonly method: string;
  readonly status: number;
  /** Where the response came from: the upstream, or the gateway itself (a plugin's answer, an error). */
  readonly source: "upstream" | "kong";
  readonly route: { readonly id: string; readonly name: string | null } | null;
  readonly service: { readonly id: string; readonly name: string | null; readonly host: string } | null;
  readonly consumer: ConsumerIdentity | null;
  readonly latencies: LogLatencies;
  /** Bytes received from the client: request line, headers and body (Kong's `request.size`). */
  readonly requestSize: number;
  /** Bytes sent to the client: status line, headers and body (Kong's `response.size`). */
  readonly responseSize: number;
  /** Body bytes sent to the client (nginx's $body_bytes_sent). */
  readonly bodySize: number;
  /** The response's headers as sent (null until there is a response). Read them, never change them. */
  readonly responseHeaders: Headers | null;
  /** Kong's serializer record, built on each call (a fresh object, so a logger may add its custom fields). */
  serialize(): LogRecord;
}
