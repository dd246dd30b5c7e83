// The log phase's view of one request: filled in by the pipeline as the request goes (route, upstream
// attempts, timings, status, sizes) and read once it is finished by the plugins' log hooks (and the access
// log). Created only when something will read it, so a request nobody logs pays nothing.
import type { ConsumerIdentity, LogEntry, LogLatencies, LogRecord, LogTry } from "../plugins/contract.ts";
import { parseQuery } from "../plugins/kong-request.ts";
import type { ReceivedHeaders } from "./headers.ts";
import type { ProxyPluginContext } from "./plugin-context.ts";
import type { RouteTarget, UpstreamTarget } from "./snapshot.ts";

/**
 * Which request headers a log record keeps (see the Transaction constructor): all of them, the combined access
 * log's three, or none; `sizes` and `combined+sizes` keep none (or the three) and measure the header bytes
 * for the request's size as it arrives, without copying them.
 */
export type KeptHeaders = "all" | "combined" | "none" | "sizes" | "combined+sizes";

const NO_HEADERS: Record<string, string> = Object.freeze({});

/** `HTTP/1.1 200 OK\r\n` plus `\r\n` after the headers, roughly: what nginx counts besides the headers. */
const STATUS_LINE_BYTES = 17;

export class Transaction implements LogEntry {
  /** The client's headers as received (plugins and forwarding rewrite the live ones in place). */
  readonly requestHeaders: Record<string, string>;
  route: RouteTarget | null = null;
  upstream: UpstreamTarget | null = null;
  /** The request's plugin context (and run: its chain), when its route has plugins. */
  plugins: ProxyPluginContext | null = null;
  /** Path and query sent upstream. */
  upstreamUri = "";
  upstreamStatus = "";
  tries: LogTry[] | null = null;
  /** performance.now() marks: upstream call started, its response head arrived, its body was read. */
  sentAt = -1;
  headersAt = -1;
  bodyReadAt = -1;
  /** When the response was handed over (or, streamed, when its last byte passed). */
  doneAt = -1;
  status = 0;
  source: "upstream" | "kong" = "kong";
  responseHeaders: Headers | null = null;
  /** Body bytes sent to the client. */
  bodySize = 0;
  /** Body bytes received from the client (a chunked upload is counted while it streams). */
  requestBodySize = 0;
  /** Runs once the log hooks are done (releases the snapshot's plugin instances). */
  onLogged: (() => void) | null = null;
  #latencies: LogLatencies | null = null;
  #startedAt = -1;
  /** `name: value\r\n` bytes of the request's headers as received, when measured instead of kept (-1: not). */
  #headerBytes = -1;

  constructor(
    /** The request as received (read here only: a queued record does not keep it alive). */
    request: Request,
    readonly requestId: string,
    readonly method: string,
    /** performance.now() when the request arrived. */
    readonly start: number,
    /** The request target as received (path and query). */
    readonly uri: string,
    readonly clientIp: string,
    readonly scheme: string,
    readonly port: string,
    /**
     * Which of the request's headers are kept: all, or only what its readers need — the three the combined
     * access log prints, or none (its log hooks read only the facts) — which saves copying them;
     * `serialize()`, `requestSize` and `requestHeaders` are then incomplete. With `sizes` (a hook reads the
     * request's size, nothing its headers) the header bytes are counted instead: `requestSize` is exact.
     */
    kept: KeptHeaders = "all",
    /**
     * The request's headers as received (`Headers.toJSON()`), when the caller has them already: read
     * instead of the request's Headers (which then cost no second copy), and kept as they are with `all`.
     */
    snapshot: ReceivedHeaders | null = null,
  ) {
    if (kept === "none") this.requestHeaders = NO_HEADERS;
    else {
      // The pipeline's snapshot, or (a request answered before it took one) one toJSON here: a single native
      // call, where reading the headers one by one (`get`, `forEach`) calls into native code per header.
      const received = (snapshot ?? request.headers.toJSON()) as Record<string, string | string[]>;
      const one = received as Record<string, string>;
      if (kept === "sizes" || kept === "combined+sizes") {
        // The header bytes are counted (the object is not kept).
        this.requestHeaders = kept === "sizes" ? NO_HEADERS : combinedOf(one);
        let bytes = 0;
        for (const name in received) {
          const value = received[name]!;
          // A repeated Set-Cookie comes as a list.
          if (typeof value === "string") bytes += name.length + value.length + 4;
          else for (const each of value) bytes += name.length + each.length + 4;
        }
        this.#headerBytes = bytes;
        const length = received["content-length"];
        if (typeof length === "string") this.requestBodySize = Number(length) || 0;
      } else {
        this.requestHeaders = kept === "all" ? one : combinedOf(one);
        const length = this.requestHeaders["content-length"];
        if (length !== undefined) this.requestBodySize = Number(length) || 0;
      }
    }
  }

  /**
   * Epoch milliseconds when the request arrived: the wall clock less the time elapsed since, read once and
   * only by a reader that wants it (the request path reads no wall clock for it).
   */
  get startedAt(): number {
    if (this.#startedAt < 0) this.#startedAt = Math.round(Date.now() - (performance.now() - this.start));
    return this.#startedAt;
  }

  get service(): LogEntry["service"] {
    return this.upstream;
  }

  get consumer(): ConsumerIdentity | null {
    return this.plugins?.consumer ?? null;
  }

  get latencies(): LogLatencies {
    if (this.#latencies === null) {
      const proxied = this.sentAt >= 0;
      this.#latencies = {
        kong: Math.round((proxied ? this.sentAt : this.doneAt) - this.start),
        proxy: proxied && this.headersAt >= 0 ? Math.round(this.headersAt - this.sentAt) : -1,
        request: Math.round(this.doneAt - this.start),
        receive:
          this.bodyReadAt >= 0 && this.headersAt >= 0 ? Math.round(this.bodyReadAt - this.headersAt) : 0,
      };
    }
    return this.#latencies;
  }

  get requestSize(): number {
    // Request line (`GET /x HTTP/1.1\r\n`), each `name: value\r\n`, the blank line and the body.
    let size = this.method.length + this.uri.length + 12;
    if (this.#headerBytes >= 0) size += this.#headerBytes;
    else for (const name in this.requestHeaders) size += name.length + this.requestHeaders[name]!.length + 4;
    return size + 2 + this.requestBodySize;
  }

  get responseSize(): number {
    let size = STATUS_LINE_BYTES;
    if (this.responseHeaders !== null) {
      // toJSON costs less than iterating the Headers (each entry an array); set-cookie comes as a list there.
      const headers = this.responseHeaders.toJSON() as Record<string, string | string[]>;
      for (const name in headers) {
        const value = headers[name]!;
        if (typeof value === "string") size += name.length + value.length + 4;
        else for (const one of value) size += name.length + one.length + 4;
      }
    }
    return size + this.bodySize;
  }

  serialize(): LogRecord {
    const headers = { ...this.requestHeaders };
    if (headers.authorization !== undefined) headers.authorization = "REDACTED";
    if (headers["proxy-authorization"] !== undefined) headers["proxy-authorization"] = "REDACTED";
    const host = hostWithoutPort(this.requestHeaders.host ?? "");
    const query = queryIndex(this.uri);
    const ctx = this.plugins;
    const record: LogRecord = {
      request: {
        id: this.requestId,
        uri: this.uri,
        url: `${this.scheme}://${host}:${this.port}${this.uri}`,
        querystring: parseQuery(query < 0 ? "" : this.uri.slice(query + 1)),
        method: this.method,
        headers,
        size: this.requestSize,
      },
      upstream_uri: this.upstreamUri,
      upstream_status: this.upstreamStatus,
      response: {
        status: this.status,
        headers: this.responseHeaders === null ? {} : this.responseHeaders.toJSON(),
        size: this.responseSize,
      },
      latencies: { ...this.latencies },
      tries: this.tries === null ? [] : this.tries.map((t) => ({ ...t })),
      client_ip: this.clientIp,
      started_at: this.startedAt,
      source: this.source,
      workspace: DEFAULT_WORKSPACE_ID,
      workspace_name: "default",
    };
    if (ctx?.credential)
      record.authenticated_entity = { id: ctx.credential.id, consumer_id: ctx.credential.consumerId };
    if (this.route !== null) record.route = { id: this.route.id, name: this.route.name };
    if (this.upstream !== null)
      record.service = { id: this.upstream.id, name: this.upstream.name, host: this.upstream.host };
    if (ctx?.consumer) record.consumer = { ...ctx.consumer };
    if (ctx?.serializeValues) Object.assign(record, ctx.serializeValues);
    return record;
  }
}

/** What the combined access-log line reads: $remote_user's header, $http_referer and $http_user_agent. */
function combinedOf(received: ReceivedHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const authorization = received.authorization;
  if (authorization !== undefined) out.authorization = authorization;
  const referer = received.referer;
  if (referer !== undefined) out.referer = referer;
  const agent = received["user-agent"];
  if (agent !== undefined) out["user-agent"] = agent;
  return out;
}

/** Kong OSS has one workspace, `default`; its id is fixed per installation, ours is a constant. */
const DEFAULT_WORKSPACE_ID = "00000000-0000-0000-0000-000000000000";

function queryIndex(uri: string): number {
  return uri.indexOf("?");
}

/** Kong's `var.host`: the Host header without its port, lower-cased. */
function hostWithoutPort(host: string): string {
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : host.indexOf(":");
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}
