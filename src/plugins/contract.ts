// The plugin contract (DESIGN §6): a descriptor with a lifecycle. Config is validated when written through the
// admin API, never per request; `compile` runs when a snapshot is built and returns the hooks; `cleanup` runs
// when no snapshot uses the compiled instance any more. `access` returning a Response ends the request;
// `response` sees (and may replace) whatever response then goes out; `log` runs after it is sent. The proxy
// builds one PluginContext per request that has a plugin chain.
import type { z } from "zod";
import type { RateCounters } from "../schemas/rate-windows.ts";
import type { CredentialIndex } from "./credential-index.ts";
import type { LogEntry } from "./log-entry.ts";
import type { ErrorLogger } from "./log-levels.ts";
import type { MetricsRecorder } from "./metrics.ts";

export type { LogEntry, LogLatencies, LogRecord, LogTry } from "./log-entry.ts";

export type ConsumerIdentity = { id: string; username: string | null; custom_id: string | null };

export type CredentialIdentity = { id: string; identifier: string; consumerId: string };

export interface PluginContext {
  readonly request: Request;
  readonly method: string;
  /** Normalised request path (what the route matched). */
  readonly path: string;
  /** Raw query string with its leading `?`, or "". */
  readonly query: string;
  readonly clientIp: string;
  readonly requestId: string;
  readonly route: { id: string; name: string | null };
  /** The route's regex captures (Kong's `uri_captures`: `[0]` the match, then numbered and named groups). */
  readonly uriCaptures: RegExpExecArray | null;
  readonly service: { id: string; name: string | null } | null;
  /** Headers that go upstream; plugins add and remove here (client headers were copied into it). */
  readonly upstreamHeaders: Headers;
  /**
   * Set by the chain while an access hook runs: the request headers (lower-case) the hooks before it may have
   * edited, as they declared them (PluginInstance.upstreamHeaderEdits); null when any may have been, or when
   * no access hook is running. What requestHeader and upstreamHeaderMayBePresent go by.
   */
  editedEarlier: ReadonlySet<string> | null;
  /**
   * A request header as the access phase sees it now (what `request.headers.get(name)` returns), read from
   * the headers as received — without a call into Headers — when no hook before this one may have edited it.
   */
  requestHeader(name: string): string | null;
  /**
   * False only when the upstream header `name` (lower-case) is certainly absent as this hook starts: the client
   * did not send it and no hook before this one may have added it. The calling hook's own edits are not
   * counted, so ask before setting that header yourself (authenticate.ts clears spoofed consumer headers so).
   */
  upstreamHeaderMayBePresent(name: string): boolean;
  /** Replaces the query string sent upstream (e.g. hide_credentials removing `?apikey=`). */
  setUpstreamQuery(query: string): void;
  /** The query string sent upstream so far (with its `?`, or ""): the client's until a plugin replaced it. */
  readonly upstreamQuery: string;
  /** Replaces the path sent upstream (Kong's kong.service.request.set_path): the whole path, service path included. */
  setUpstreamPath(path: string): void;
  /** Replaces the method sent upstream (Kong's set_method); a GET or HEAD goes without a body. */
  setUpstreamMethod(method: string): void;
  /** Replaces the Host header sent upstream (else the service's host, or the client's with preserve_host). */
  setUpstreamHost(host: string): void;
  /** The request body as text, read once and then forwarded as read (key_in_body). */
  readBodyText(): Promise<string>;
  /** The request body's bytes as received (read once, like readBodyText; a multipart form needs the bytes). */
  readBodyBytes(): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Replaces the body sent upstream (after reading it), e.g. hide_credentials removing a key_in_body key.
   * A new Content-Type (a re-encoded multipart form has a new boundary) replaces the client's.
   */
  setUpstreamBody(body: string | Uint8Array<ArrayBuffer>, contentType?: string): void;
  readonly credentials: CredentialIndex;
  /** Who the request is from, once an authentication plugin has identified it. */
  consumer: ConsumerIdentity | null;
  credential: CredentialIdentity | null;
  /** Set when the consumer is the configured `anonymous` one. */
  anonymous: boolean;
  /** A gateway answer in Portico's shape: `{"message": …, "request_id": …}` (or a custom body). */
  respond(status: number, body: string | Record<string, unknown>, headers?: Record<string, string>): Response;
  /**
   * Adds a header to whatever response goes out for this request — the upstream's, a plugin's own answer, or
   * a gateway error after access (rate-limiting's X-RateLimit-* on a 200 and on its 429) — before the
   * response hooks see it. A later value for the same name replaces an earlier one.
   */
  setResponseHeader(name: string, value: string): void;
  /**
   * setResponseHeader for several headers at once, in order: `list` is name, value, name, value… The context
   * may keep the array itself (one allocation for a plugin that sets several headers on every request), so it
   * must be a new one that the plugin does not change afterwards.
   */
  setResponseHeaders(list: string[]): void;
  /** Adds a field to this request's log serializer record (Kong's kong.log.set_serialize_value). */
  setSerializeValue(key: string, value: unknown): void;
  /**
   * A gateway answer with exactly the body and headers given (Kong's kong.response.exit), plus the gateway's
   * own Server, request id and latency headers.
   */
  exit(status: number, body?: string | Uint8Array<ArrayBuffer> | null, headers?: HeadersInit): Response;
  /**
   * `exit` for a hot path: `headers` (which must name none of the gateway's own: Server, request id, latency)
   * are copied natively into the answer, then the gateway's are added. The body may be a Blob, whose bytes the
   * Response shares.
   */
  exitWithHeaders(status: number, body: Blob | null, headers: Headers): Response;
  /**
   * Refuses a request body over `limit` bytes with `status` and "Request size limit exceeded": at once when its
   * length is announced or it was already read; otherwise while it streams — the upstream call is cut off the
   * moment the count passes the limit, so the body is never buffered to be measured. Returns the refusal
   * when it is due now.
   */
  limitBody(limit: number, status: number): Response | undefined;
}

/**
 * Where the response a `response` hook sees comes from (Kong's `kong.response.get_source()`): the upstream,
 * a plugin's answer in the access phase, or the gateway's own error (upstream refused, timed out, too large).
 */
export type ResponseSource = "service" | "exit" | "error";

/** A request as a shortcut sees it: matched to its route, with what the gateway's own answer headers need. */
export type ShortcutRequest = {
  readonly request: Request;
  readonly method: string;
  /** Raw query string with its leading `?`, or "". */
  readonly query: string;
  readonly routeId: string;
  readonly requestId: string;
  /** `portico/<version>`. */
  readonly serverToken: string;
  /** performance.now() when the request arrived. */
  readonly start: number;
};

/** What one configured plugin does for a request. Built once per configuration (`compile`), never per request. */
export type PluginHooks = {
  /** May answer the request (a Response ends it) or change what goes upstream. */
  access?(ctx: PluginContext): Response | undefined | Promise<Response | undefined>;
  /**
   * Runs, in priority order, on every response that goes out once the access phase has started — whichever
   * plugin (or the upstream) produced it, as Kong's header and body filters do. It may change the headers in
   * place, or return a replacement (a rewritten body, a body that is copied as it streams); undefined keeps
   * the response. Bodies are never read unless a hook reads them.
   */
  response?(
    ctx: PluginContext,
    response: Response,
    source: ResponseSource,
  ): Response | undefined | Promise<Response | undefined>;
  /**
   * Answers a request before any plugin context exists (proxy-cache's hit), or returns undefined to let it go
   * the usual way through `access`. The chain calls it only where that changes nothing Kong does: this
   * plugin's access hook comes first (no authentication, limit or rewrite before it), it is not configured
   * per consumer, and no other plugin of the chain has a response or log hook that would have to see the answer.
   */
  shortcut?(request: ShortcutRequest): Response | undefined;
  /**
   * After the response was handed to the client (a streamed body: after its last byte); never delays it.
   * Runs for every plugin of the chain, also when an earlier plugin answered the request (as Kong).
   */
  log?(ctx: PluginContext, entry: LogEntry): void;
};

/**
 * What a log hook reads from its LogEntry: "facts" (status, source, latencies, route, service, consumer),
 * "sizes" (those and requestSize / responseSize, which need the request's headers as received), or "record"
 * (serialize(): everything, the request's headers included).
 */
export type LogReads = "facts" | "sizes" | "record";

/** A compiled configuration: its hooks, and what to release when no snapshot uses it any more. */
export type PluginInstance = PluginHooks & {
  /**
   * Every request header (lower-case name) the access hook may set, append or delete on the upstream request
   * (`upstreamHeaders`, `setUpstreamBody`); a hook that does not say may touch any. Declared at compile time so
   * forwarding knows which of the client's headers are still as received after the chain ran (headers.ts).
   */
  upstreamHeaderEdits?: readonly string[];
  /**
   * What the log hook reads (see LogReads); a hook that does not say gets the whole record. Declared at
   * compile time so a request's log record keeps only what some log hook of its chain will read.
   */
  logReads?: LogReads;
  /** Releases clients, timers and caches the instance holds; runs once, after the last request using it. */
  cleanup?(): void | Promise<void>;
};

/** Node facilities a plugin may use when it compiles (the data plane never reaches for them itself). */
export type PluginEnv = {
  log(line: string): void;
  /**
   * Rate-limit counters of this node, shared by all of its workers (rate-limiting's `local` policy): a node
   * with several workers supplies one implementation they all see, atomic across them.
   */
  localCounters: RateCounters;
  /** Rate-limit counters in the gateway's database, shared by every node (`cluster`); null without one. */
  clusterCounters: RateCounters | null;
  /** This worker's metric series (the node sums every worker's when /metrics is scraped). */
  metrics: MetricsRecorder;
  /** The node's error log (leveled, as Kong's kong.log.err / warn / notice). */
  errorLog: ErrorLogger;
};

/** Where a plugin is configured: its id, and the route, service and consumer it is scoped to (null: any). */
export type PluginScope = {
  id: string;
  route: string | null;
  service: string | null;
  consumer: string | null;
};

/** Where Kong lets a plugin be applied (its `no_consumer` / `no_route` / `no_service` typedefs). */
export type PluginScoping = { consumer: boolean; route: boolean; service: boolean };

/**
 * A bundled plugin, defined once: the catalog, the admin API (config validation, Kong's schemas), the chain
 * builder and the snapshot lifecycle are all derived from it.
 */
export type PluginDescriptor<C = unknown> = {
  name: string;
  /** Higher runs first (Kong's bundled priorities). */
  priority: number;
  version: string;
  /**
   * Validated when the plugin is written through the admin API; `compile` gets the parsed value. A getter
   * that builds the schema on first use (schemas/lazy.ts): start-up builds none of them.
   */
  readonly config: z.ZodType<C>;
  scoping: PluginScoping;
  /**
   * Config fields that hold secrets (Kong marks them `encrypted`), as dotted paths (`redis.password`; `*` is
   * any key of a map): plans and diffs show them as `<redacted>`.
   */
  secrets?: readonly string[];
  /**
   * The plugin answers CORS preflights: a preflight (OPTIONS with Origin and Access-Control-Request-Method)
   * that matches a route in all but its method is routed as the method it announces when this plugin applies
   * to that route, instead of ending in 404.
   */
  handlesPreflight?: boolean;
  /** Resolves the options once when a snapshot is built (like a middleware factory) and returns the hooks. */
  compile(config: C, env: PluginEnv, scope: PluginScope): PluginInstance;
};

/** Type-erased for the catalog; each descriptor keeps its own config type. */
// biome-ignore lint/suspicious/noExplicitAny: the catalog holds plugins of different config types.
export type AnyPluginDescriptor = PluginDescriptor<any>;

/**
 * Defines a plugin whose hooks take the config as their last argument (most plugins need nothing more).
 * `config` builds the schema (a `lazy` one, so it is built once, on first use).
 */
export function definePlugin<C>(
  descriptor: Omit<PluginDescriptor<C>, "compile" | "scoping" | "config"> & {
    config: () => z.ZodType<C>;
    scoping?: Partial<PluginScoping>;
    access?(ctx: PluginContext, config: C): Response | undefined | Promise<Response | undefined>;
    response?(
      ctx: PluginContext,
      response: Response,
      source: ResponseSource,
      config: C,
    ): Response | undefined | Promise<Response | undefined>;
    log?(ctx: PluginContext, entry: LogEntry, config: C): void;
    /** The request headers `access` may edit with this config (PluginInstance.upstreamHeaderEdits). */
    upstreamHeaderEdits?(config: C): readonly string[];
  },
): PluginDescriptor<C> {
  const { access, response, log, scoping, config: schema, upstreamHeaderEdits, ...rest } = descriptor;
  return {
    ...rest,
    get config() {
      return schema();
    },
    scoping: { consumer: true, route: true, service: true, ...scoping },
    compile(config) {
      const instance: PluginInstance = {};
      if (access) instance.access = (ctx) => access(ctx, config);
      if (upstreamHeaderEdits) instance.upstreamHeaderEdits = upstreamHeaderEdits(config);
      if (response) instance.response = (ctx, res, source) => response(ctx, res, source, config);
      if (log) instance.log = (ctx, entry) => log(ctx, entry, config);
      return instance;
    },
  };
}
