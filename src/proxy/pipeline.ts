// One proxied request: check it is unambiguous and within limits → normalise the path → match a route →
// protocol checks → rewrite headers → forward → relay the response. Gateway answers are synchronous;
// only forwarding awaits. Reads nothing but the snapshot it was given.
import type { Server } from "bun";
import { type PluginChain, runAccess, runResponse } from "../plugins/chain.ts";
import type { LogReads, ResponseSource } from "../plugins/contract.ts";
import type { ErrorLogger } from "../plugins/log-levels.ts";
import { normalizeRequestPath } from "../schemas/normalize-path.ts";
import { BalancedRequest, NO_PEER } from "./balanced.ts";
import { type ForwardCall, type ForwardOutcome, retry, startTry, UpstreamTry } from "./forward.ts";
import {
  isValidHost,
  type ReceivedHeaders,
  setForwardedHeaders,
  setResponseHeaders,
  stripResponseHopByHop,
} from "./headers.ts";
import { complete, completeWith, failed, finish, type LogPhase } from "./log-phase.ts";
import { joinUpstreamPath } from "./path-join.ts";
import { Peer } from "./peer.ts";
import { BodyTooLarge, ProxyPluginContext } from "./plugin-context.ts";
import { needsOneChunk, oneChunkResponse } from "./relay.ts";
import { gatewayResponse, MESSAGES, NAME_RESOLUTION_FAILED, redirectResponse } from "./responses.ts";
import type { RequestFacts, RouteMatch, Router } from "./router.ts";
import type { RouteTarget, Snapshot, UpstreamTarget } from "./snapshot.ts";
import { type KeptHeaders, Transaction } from "./transaction.ts";
import type { TrustedIps } from "./trusted-ips.ts";
import { upgradeWebSocket } from "./websocket.ts";

export type PipelineEnv = {
  bodyLimit: number;
  /** Longest request target (path + query) accepted (414 above). */
  uriLimit: number;
  /** Largest Content-Length buffered by the large-response workaround (0: off). */
  bufferMax: number;
  /** `portico/<version>`: the Server header of gateway answers. */
  serverToken: string;
  /** `1.1 portico/<version>`. */
  via: string;
  nextRequestId: () => string;
  /** Peers whose X-Forwarded-* and real-IP header are believed; null trusts nobody. */
  trustedIps: TrustedIps | null;
  /** Where a trusted proxy puts the client's address (Kong's real_ip_header), lower-case. */
  realIpHeader: string;
  /** Where finished requests that something logs go (plugin log hooks, the access log). */
  logPhase: LogPhase;
  /** Every request is logged (the access log is on), not only those of routes whose plugins log. */
  logsEveryRequest: boolean;
  /** The access log reads every request header (json: the request's size), not only the combined three. */
  accessLogReadsAll: boolean;
  /** Reports a failing plugin. */
  report: (line: string) => void;
  /** The error log: the cause of every 5xx the gateway makes itself, with the request id. */
  errorLog: ErrorLogger;
};

/** The listener a request arrived on. */
export type ListenerFacts = {
  /** TLS terminated here (an `ssl` listener). */
  https: boolean;
  /** The listener's port as a string ("" until the first request tells it). */
  port: string;
};

const DIGITS = /^\d+$/;

/**
 * A WebSocket opening handshake (RFC 6455 §4.1): a GET with `Upgrade: websocket`, `Connection: upgrade`, a
 * key and a version. Anything less is an ordinary request: its Upgrade and Connection are hop-by-hop and
 * dropped, and it is proxied as such rather than failing a handshake that was never asked for.
 */
function isWebSocketHandshake(method: string, received: ReceivedHeaders): boolean {
  return (
    method === "GET" &&
    received.upgrade?.toLowerCase() === "websocket" &&
    /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(received.connection ?? "") &&
    received["sec-websocket-key"] !== undefined &&
    received["sec-websocket-version"] !== undefined
  );
}

const UPGRADE_TO_TLS = { connection: "Upgrade", upgrade: "TLS/1.2, HTTP/1.1" };

/** The gateway's own answer to a request refused before it reached an upstream (and its log record). */
function refuse(
  status: keyof typeof MESSAGES,
  request: Request,
  server: Server<unknown>,
  env: PipelineEnv,
  listener: ListenerFacts,
  requestId: string,
  start: number,
  extra?: Record<string, string>,
  route?: RouteTarget,
): Response | Promise<Response> {
  const response = gatewayResponse(
    status,
    MESSAGES[status],
    request.headers.get("accept"),
    requestId,
    env.serverToken,
    start,
    extra,
  );
  return loggedGatewayAnswer(response, request, server, env, listener, requestId, start, route);
}

/**
 * An answer the gateway gave itself before forwarding (404, 400, 414, an https redirect…), with its access-log
 * record when every request is logged.
 */
function loggedGatewayAnswer(
  response: Response,
  request: Request,
  server: Server<unknown>,
  env: PipelineEnv,
  listener: ListenerFacts,
  requestId: string,
  start: number,
  route: RouteTarget | undefined,
): Response | Promise<Response> {
  if (!env.logsEveryRequest) return response;
  // Its log record: the request as received, and the route when one matched (an https redirect).
  const url = request.url;
  const path = url.charCodeAt(0) === 47 ? url : url.slice(url.indexOf("/", url.indexOf("//") + 2));
  const tx = new Transaction(
    request,
    requestId,
    request.method,
    start,
    path || "/",
    new Peer(request, server, env, listener.https).clientIp,
    listener.https ? "https" : "http",
    listener.port || String(server.port),
    env.accessLogReadsAll ? "all" : "combined",
  );
  if (route !== undefined) tx.route = route;
  return finish(tx, response, env.logPhase);
}

export function handle(
  request: Request,
  server: Server<unknown>,
  snapshot: Snapshot,
  env: PipelineEnv,
  listener: ListenerFacts,
): Response | Promise<Response> | undefined {
  const start = performance.now();
  const requestId = env.nextRequestId();
  // Bun gives an absolute URL (a relative one for an HTTP/1.0 request without Host).
  const url = request.url;
  let pathStart = 0;
  if (url.charCodeAt(0) !== 47) {
    pathStart = url.indexOf("/", url.indexOf("//") + 2);
    if (pathStart < 0) pathStart = url.length;
  }
  if (url.length - pathStart > env.uriLimit)
    return refuse(414, request, server, env, listener, requestId, start);
  // Bun keeps a `#fragment` a raw client sent (no request target may carry one); fetch would drop it on the
  // way upstream, so it is cut here, before routing, as nginx's $uri (and so Kong) does.
  const hash = url.indexOf("#", pathStart);
  const end = hash < 0 ? url.length : hash;
  let queryStart = url.indexOf("?", pathStart);
  if (queryStart >= end) queryStart = -1;
  const rawPath = pathStart === end ? "/" : url.slice(pathStart, queryStart < 0 ? end : queryStart);
  const query = queryStart < 0 ? "" : url.slice(queryStart, end);

  const headers = request.headers;
  // The headers as received, in one native call: what the pipeline reads of them comes from here (each
  // Headers call costs several hundred instructions), as does forwarding's rewrite on a route without plugins
  // and the log record's copy.
  const received = headers.toJSON() as ReceivedHeaders;
  const hostHeader = received.host ?? null;
  if (hostHeader !== null && !isValidHost(hostHeader))
    return refuse(400, request, server, env, listener, requestId, start);
  const method = request.method;
  // nginx (so Kong) refuses both; fetch cannot send them upstream anyway.
  if (method === "TRACE" || method === "CONNECT")
    return refuse(405, request, server, env, listener, requestId, start);
  let hasBody = false;
  let streamLimit: number | null = null;
  const contentLength = received["content-length"];
  if (contentLength !== undefined) {
    if (!DIGITS.test(contentLength) || received["transfer-encoding"] !== undefined)
      return refuse(400, request, server, env, listener, requestId, start);
    const length = Number(contentLength);
    if (length > env.bodyLimit) return refuse(413, request, server, env, listener, requestId, start);
    hasBody = length > 0;
  } else if (received["transfer-encoding"] !== undefined) {
    hasBody = true;
    streamLimit = env.bodyLimit;
  }
  if (method === "GET" || method === "HEAD") hasBody = false;

  let host = hostHeader ?? "";
  if (host.charCodeAt(0) === 91) host = host.slice(0, host.indexOf("]") + 1);
  else {
    const colon = host.indexOf(":");
    if (colon >= 0) host = host.slice(0, colon);
  }
  host = host.toLowerCase();
  if (listener.port === "") listener.port = String(server.port);

  const path = normalizeRequestPath(rawPath);
  if (path === null) return refuse(400, request, server, env, listener, requestId, start);
  // Bun does not hand the TLS server name to the handler; on a TLS listener the SNI is the name the client
  // asked for, which browsers and curl send as the Host too (Kong matches route snis on it).
  const sni = listener.https ? host : null;
  const facts: RequestFacts = { method, host, port: Number(listener.port), path, headers, sni };
  const match =
    snapshot.router.match(facts) ?? (method === "OPTIONS" ? matchPreflight(snapshot.router, facts) : null);
  if (match === null) return refuse(404, request, server, env, listener, requestId, start);
  const route: RouteTarget = match.value;

  const peer = new Peer(request, server, env, listener.https);
  if (!route.allowsHttp && peer.scheme !== "https") {
    if (route.redirectStatus === 426)
      return refuse(426, request, server, env, listener, requestId, start, UPGRADE_TO_TLS, route);
    const redirect = redirectResponse(
      route.redirectStatus,
      `https://${host}${rawPath}${query}`,
      requestId,
      env.serverToken,
      start,
    );
    return loggedGatewayAnswer(redirect, request, server, env, listener, requestId, start, route);
  }
  const upstream = route.upstream;
  if (upstream === null) {
    env.errorLog(
      "error",
      `route ${route.name ?? route.id} has no service to proxy to, client: ${peer.peerIp}, request: "${method} ${rawPath}${query} HTTP/1.1", request_id: "${requestId}"`,
    );
    return refuse(503, request, server, env, listener, requestId, start, undefined, route);
  }
  // A plugin that may answer before anything else runs (a proxy-cache hit): no plugin context, no request
  // state for forwarding. A request the access log records goes the usual way (it needs its log record).
  const shortcut = route.plugins?.shortcut ?? null;
  if (shortcut !== null && !env.logsEveryRequest) {
    const answer = shortcut({
      request,
      method,
      query,
      routeId: route.id,
      requestId,
      serverToken: env.serverToken,
      start,
    });
    if (answer !== undefined) return answer;
  }

  const state: Matched = {
    request,
    peer,
    received,
    websocket: isWebSocketHandshake(method, received),
    server,
    env,
    port: listener.port,
    route,
    upstream,
    matched: match.matched,
    captures: match.captures,
    path,
    rawPath,
    query,
    host,
    hostHeader,
    method,
    hasBody,
    streamLimit,
    requestId,
    start,
  };
  // Only a request something logs (the access log, a plugin's log hook) gets a log record, and it keeps only
  // the request headers that its readers read.
  const logReads = route.plugins?.logReads ?? null;
  const tx =
    env.logsEveryRequest || logReads !== null
      ? newTransaction(state, keptHeaders(env, logReads), logReads)
      : null;
  if (route.plugins !== null) return runPlugins(state, route.plugins, snapshot, tx);
  if (tx === null) return forwardMatched(state, null, null);
  return forwardMatched(state, null, tx, env.logPhase);
}

/**
 * A CORS preflight whose route does not list OPTIONS: matched again as the method it announces, and kept
 * only when a plugin that answers preflights (cors) applies to that route. Kong's router has no such step
 * (its users must add OPTIONS to every route's methods, Kong#4859); here the preflight reaches the plugin
 * that is configured to answer it, and anything else still ends in 404.
 */
function matchPreflight(router: Router<RouteTarget>, facts: RequestFacts): RouteMatch<RouteTarget> | null {
  const announced = facts.headers.get("access-control-request-method");
  if (announced === null || announced === "" || !facts.headers.get("origin")) return null;
  const match = router.match({ ...facts, method: announced });
  return match?.value.plugins?.handlesPreflight === true ? match : null;
}

/** Everything known about a request once its route and upstream are found. */
type Matched = {
  request: Request;
  /** The client's headers as received (forwarding and plugins rewrite the live ones). */
  received: ReceivedHeaders;
  /** The peer, the client's address and the scheme, worked out only when something reads them. */
  peer: Peer;
  /** A WebSocket upgrade (its handshake headers must reach the upstream intact). */
  websocket: boolean;
  server: Server<unknown>;
  env: PipelineEnv;
  /** The listener's port. */
  port: string;
  route: RouteTarget;
  upstream: UpstreamTarget;
  matched: string;
  /** The route's regex captures, for plugins (Kong's uri_captures). */
  captures: RegExpExecArray | null;
  path: string;
  rawPath: string;
  query: string;
  host: string;
  /** The client's Host header as sent (forwarding rewrites the live one). */
  hostHeader: string | null;
  method: string;
  hasBody: boolean;
  streamLimit: number | null;
  requestId: string;
  start: number;
};

/** A request's plugin context, which is also its plugin run. */
type PluginRun = ProxyPluginContext<Matched>;

/**
 * Runs the route's access plugins; the first one that answers ends the request. The plugin context is the
 * request's whole plugin run (chain, log record, the lifecycle it holds).
 */
function runPlugins(
  state: Matched,
  chain: PluginChain,
  snapshot: Snapshot,
  tx: Transaction | null,
): Response | Promise<Response> {
  const run: PluginRun = new ProxyPluginContext(
    state,
    chain,
    // Plugins edit the headers that go upstream; an upgrade keeps the client's handshake headers intact.
    state.websocket ? new Headers(state.request.headers) : state.request.headers,
    snapshot.credentials,
    tx,
  );
  if (tx !== null) tx.plugins = run;
  // The snapshot's plugin instances stay alive while this request may still call them: until its answer is
  // produced, or, when plugins log, until their log hooks have run.
  const lifecycle = snapshot.lifecycle;
  lifecycle.enter();
  // Plugins that only log (prometheus): no hook runs before the answer, so the request goes as on a route
  // without plugins, and the context waits for the log phase.
  if (tx !== null && chain.accessEntries.length === 0 && !chain.hasResponse && !state.websocket) {
    tx.onLogged = lifecycle.leave;
    try {
      // The upstream call settles the log record itself (no `then` on its answer).
      return forwardMatched(state, null, tx, state.env.logPhase);
    } catch (error) {
      return finish(tx, pluginFailure(run, error), state.env.logPhase);
    }
  }
  // Without a log record, the upstream call (proxyHttp) takes `leave` over when it starts, and calls it when
  // it returns: no promise is chained onto its answer for it.
  if (tx === null) run.leave = lifecycle.leave;
  let answer: Response | Promise<Response>;
  try {
    // A chain whose plugins only log (prometheus) has no access phase to run.
    const access = chain.accessEntries.length === 0 ? undefined : runAccess(chain, run);
    if (access instanceof Promise) {
      run.awaited = true;
      answer = access.then(
        (result) => afterAccess(run, result),
        (error) => accessFailed(run, error),
      );
    } else answer = afterAccess(run, access);
  } catch (error) {
    answer = accessFailed(run, error);
  }
  if (tx !== null) {
    tx.onLogged = lifecycle.leave;
    return finish(tx, answer, state.env.logPhase);
  }
  const leave = run.leave;
  // The upstream call has it (and releases when its answer is produced).
  if (leave === null) return answer;
  run.leave = null;
  if (!(answer instanceof Promise)) {
    leave();
    return answer;
  }
  return answer.finally(leave);
}

/** The access phase is over: forward, or send the answer a plugin gave. */
function afterAccess(run: PluginRun, answer: Response | undefined): Response | Promise<Response> {
  return answer === undefined
    ? forwardMatched(run.state, run, run.tx)
    : withResponseHooks(run, answer, "exit");
}

/**
 * A plugin read a chunked body (key_in_body) that outgrew the limit: the same 413 as the streaming path.
 * Anything else a hook throws is Kong's answer to a failing plugin: logged, and a 500.
 */
function accessFailed(run: PluginRun, error: unknown): Response | Promise<Response> {
  if (!(error instanceof BodyTooLarge)) return pluginFailure(run, error);
  const { state } = run;
  return withResponseHooks(
    run,
    gatewayResponse(
      run.tooLargeStatus,
      MESSAGES[413],
      state.request.headers.get("accept"),
      state.requestId,
      state.env.serverToken,
      state.start,
    ),
    "error",
  );
}

/** The request headers a log record keeps for the access log (if on) and the chain's log hooks. */
function keptHeaders(env: PipelineEnv, logReads: LogReads | null): KeptHeaders {
  if (env.accessLogReadsAll || logReads === "record") return "all";
  // A hook that reads the request's size but none of its headers (prometheus' bandwidth): counted, not copied.
  if (logReads === "sizes") return env.logsEveryRequest ? "combined+sizes" : "sizes";
  return env.logsEveryRequest ? "combined" : "none";
}

function newTransaction(state: Matched, kept: KeptHeaders, logReads: LogReads | null): Transaction {
  const tx = new Transaction(
    state.request,
    state.requestId,
    state.method,
    state.start,
    state.rawPath + state.query,
    state.peer.clientIp,
    state.peer.scheme,
    state.port,
    kept,
    state.received,
  );
  tx.route = state.route;
  tx.upstream = state.upstream;
  // The upstream tries are recorded only for a reader of the whole record (the log serializer's `tries`).
  if (logReads === "record") tx.tries = [];
  return tx;
}

/**
 * Kong's answer to a plugin that fails: the error is reported, the client gets a 500 (no hooks run on it,
 * but it carries the headers plugins set).
 */
function pluginFailure(ctx: PluginRun, error: unknown): Response {
  const { env } = ctx.state;
  env.report(`proxy: plugin failed on request ${ctx.requestId}: ${(error as Error)?.stack ?? error}`);
  env.errorLog(
    "error",
    `plugin failed (${(error as Error)?.message ?? error}), client: ${ctx.clientIp}, request: "${ctx.method} ${ctx.path}${ctx.query} HTTP/1.1", request_id: "${ctx.requestId}"`,
  );
  const response = ctx.respond(500, MESSAGES[500]);
  ctx.applyResponseHeaders(response.headers);
  if (ctx.tx !== null) ctx.tx.source = "kong";
  return response;
}

/**
 * Adds the headers plugins set to a response about to go out, then runs the response hooks on it; a hook
 * that throws turns it into a 500.
 */
function withResponseHooks(
  run: PluginRun,
  response: Response,
  source: ResponseSource,
): Response | Promise<Response> {
  run.applyResponseHeaders(response.headers);
  if (run.tx !== null) run.tx.source = source === "service" ? "upstream" : "kong";
  if (!run.chain.hasResponse) return response;
  try {
    const out = runResponse(run.chain, run, response, source);
    return out instanceof Promise ? out.catch((error) => pluginFailure(run, error)) : out;
  } catch (error) {
    return pluginFailure(run, error);
  }
}

/**
 * @param logPhase set (with `tx`) when the answer settles the log record here: the upstream call does it
 * with the status, headers and clock readings it has in hand, where a `then` on its answer would read them
 * again a microtask later. Null: the caller settles it (`finish`), or nothing is logged.
 */
function forwardMatched(
  state: Matched,
  plugins: PluginRun | null,
  tx: Transaction | null,
  logPhase: LogPhase | null = null,
): Response | Promise<Response> {
  const { request, server, env, route, upstream, requestId, start } = state;
  const headers = request.headers;
  const pctx = plugins;
  const upstreamPath =
    pctx?.upstreamPath ?? joinUpstreamPath(upstream.basePath, state.matched, state.path, route.stripPath);
  const query = pctx?.upstreamQuery ?? state.query;
  // A plugin may change the method (request-transformer's http_method); fetch sends no body with GET or HEAD.
  const method = pctx?.upstreamMethod ?? state.method;
  const bodiless = method !== state.method && (method === "GET" || method === "HEAD");
  const stripped = route.stripPath && state.matched !== "/" ? state.matched : "";
  const websocket = state.websocket;
  let balanced: BalancedRequest | null = null;
  const balancer = upstream.balancer;
  if (balancer !== null) {
    // Only until the balancer's first DNS answers (IP targets are known at once).
    if (balancer.pending !== null)
      return balancer.pending.then(() => forwardMatched(state, plugins, tx, logPhase));
    balanced = BalancedRequest.start(
      upstream,
      balancer,
      {
        headers,
        clientIp: state.peer.clientIp,
        path: state.path,
        query: state.query,
        captures: state.captures,
        consumerId: plugins?.consumer?.id ?? null,
        credentialId: plugins?.credential?.id ?? null,
      },
      // The Host stays as the route or a plugin set it on every try.
      route.preserveHost || pctx?.upstreamHost !== undefined,
      upstreamPath + query,
    );
    if (balanced === null) {
      env.errorLog(
        "error",
        `${NO_PEER} (upstream ${balancer.upstream.name} has no healthy target), client: ${state.peer.clientIp}, request: "${state.method} ${state.rawPath}${state.query} HTTP/1.1", request_id: "${requestId}"`,
      );
      const failure = gatewayResponse(
        503,
        NO_PEER,
        request.headers.get("accept"),
        requestId,
        env.serverToken,
        start,
      );
      const answer = plugins === null ? failure : withResponseHooks(plugins, failure, "error");
      return logPhase === null ? answer : finish(tx!, answer, logPhase);
    }
  }
  // Rewritten in place for plain requests; an upgrade still needs the client's handshake headers intact.
  const upstreamHeaders = plugins?.upstreamHeaders ?? (websocket ? new Headers(headers) : headers);
  if (tx !== null) tx.upstreamUri = upstreamPath + query;
  const hostHeader =
    pctx?.upstreamHost ?? (route.preserveHost ? null : (balanced?.hostHeader ?? upstream.hostHeader));
  if (bodiless) {
    upstreamHeaders.delete("content-length");
    upstreamHeaders.delete("transfer-encoding");
  }
  // The request state carries every fact the upstream is told (no per-request copy of them).
  // Without plugins, or when the route's access hooks edit none of the headers the rewrite reads (key-auth's
  // X-Consumer-*, say), those are still as received: the snapshot guides the rewrite. Otherwise they are read
  // as they are now.
  setForwardedHeaders(
    upstreamHeaders,
    hostHeader,
    state,
    stripped,
    env.via,
    route.forwardsAsReceived ? state.received : null,
  );
  const ctx: Context = { requestId, start, env, plugins, tx, state, balanced, logPhase };
  if (websocket) {
    const upgraded = proxyWebSocket(
      request,
      server,
      balanced?.url(true) ?? `${upstream.wsOrigin}${upstreamPath}${query}`,
      upstreamHeaders,
      upstream,
      ctx,
    );
    return logPhase === null ? upgraded : finish(tx!, upgraded, logPhase);
  }
  return proxyHttp(
    request,
    method,
    balanced?.url() ?? `${upstream.origin}${upstreamPath}${query}`,
    upstreamHeaders,
    state.hasBody && !bodiless,
    // A plugin may have lowered the limit on a body of unannounced length (request-size-limiting).
    plugins === null ? state.streamLimit : plugins.streamLimit,
    upstream,
    ctx,
  );
}

type Context = {
  requestId: string;
  start: number;
  env: PipelineEnv;
  plugins: PluginRun | null;
  tx: Transaction | null;
  state: Matched;
  /** The balanced service's request (null: the service's own host). */
  balanced: BalancedRequest | null;
  /** Where proxyHttp settles `tx` itself when its answer is ready (see forwardMatched); null: it does not. */
  logPhase: LogPhase | null;
};

/** One error-log line for a failure the gateway answers itself: its cause and the request, as nginx writes it. */
function logFailure(ctx: Context, cause: string, url: string, status: number): void {
  const { state } = ctx;
  // A client that hung up is not the gateway's failure (nginx logs it at info).
  ctx.env.errorLog(
    status >= 500 ? "error" : "info",
    `${cause}, client: ${state.peer.clientIp}, server: portico, request: "${state.method} ${state.rawPath}${state.query} HTTP/1.1", upstream: "${url}", host: "${state.hostHeader ?? ""}", status: ${status}, request_id: "${state.requestId}"`,
  );
}

function failureResponse(
  outcome: ForwardOutcome & { ok: false },
  ctx: Context,
  latency: Record<string, string>,
) {
  const { requestId, start, env } = ctx;
  const accept = ctx.state.request.headers.get("accept");
  switch (outcome.failure) {
    case "timeout":
      return gatewayResponse(504, MESSAGES[504], accept, requestId, env.serverToken, start, latency);
    case "dns":
      return gatewayResponse(503, NAME_RESOLUTION_FAILED, accept, requestId, env.serverToken, start, latency);
    case "too-large": {
      const status = ctx.plugins?.tooLargeStatus ?? 413;
      return gatewayResponse(status, MESSAGES[413], accept, requestId, env.serverToken, start, latency);
    }
    case "refused":
      return gatewayResponse(502, MESSAGES[502], accept, requestId, env.serverToken, start, latency);
    case "client-gone":
      // Nobody is listening; nginx logs this as 499.
      return new Response(null, { status: 499 });
  }
}

async function proxyHttp(
  request: Request,
  method: string,
  url: string,
  headers: Headers,
  hasBody: boolean,
  streamLimit: number | null,
  upstream: UpstreamTarget,
  ctx: Context,
): Promise<Response> {
  const sent = performance.now();
  const proxyMs = Math.round(sent - ctx.start);
  const tx = ctx.tx;
  if (tx !== null) tx.sentAt = sent;
  // This call holds the snapshot's plugin instances from here on, when nothing else does (runPlugins).
  const plugins = ctx.plugins;
  const leave = plugins === null ? null : plugins.leave;
  if (leave !== null) plugins!.leave = null;
  const logPhase = ctx.logPhase;
  try {
    // A body a plugin read goes upstream from its buffer: as the plugin rewrote it, or as the bytes received.
    const bufferedBody =
      method === "GET" || method === "HEAD"
        ? undefined
        : (ctx.plugins?.bodyText ?? ctx.plugins?.receivedBody);
    const balanced = ctx.balanced;
    const peer = balanced?.peer ?? null;
    const call: ForwardCall =
      bufferedBody === undefined
        ? { request, method, url, headers, hasBody, streamLimit, upstream, tx, peer }
        : {
            request,
            method,
            url,
            headers,
            hasBody: false,
            streamLimit: null,
            upstream,
            bufferedBody,
            tx,
            peer,
          };
    // The first try is awaited here, in this frame (a second async frame per request costs a promise and a
    // turn of the microtask queue); retries go through `attempt`.
    // A turn of the event loop may have passed only when an access hook awaited (or a balancer's DNS did).
    const first = startTry(call, plugins?.awaited === true || balanced !== null, sent);
    let outcome: ForwardOutcome;
    if (first instanceof UpstreamTry) {
      try {
        outcome = first.succeeded(await fetch(call.url, first.init));
      } catch (error) {
        outcome = first.failed(error);
      }
    } else outcome = first;
    balanced?.after(outcome);
    if (!outcome.ok && outcome.failure === "refused") outcome = await retry(call, outcome, balanced);
    const received = performance.now();
    const upstreamMs = Math.round(received - sent);
    if (!outcome.ok) {
      const failure = failureResponse(outcome, ctx, {
        "x-portico-upstream-latency": String(upstreamMs),
        "x-portico-proxy-latency": String(proxyMs),
      });
      logFailure(ctx, outcome.cause, call.url, failure.status);
      const answer =
        ctx.plugins === null || outcome.failure === "client-gone"
          ? failure
          : await withResponseHooks(ctx.plugins, failure, "error");
      return logPhase === null ? answer : complete(tx!, answer, logPhase);
    }
    const response = outcome.response;
    const responseHeaders = response.headers;
    stripResponseHopByHop(responseHeaders);
    if (balanced?.setCookie) responseHeaders.append("set-cookie", balanced.setCookie);
    setResponseHeaders(responseHeaders, ctx.env, ctx.requestId, upstreamMs, proxyMs);
    let status = 0;
    if (tx !== null) {
      status = response.status;
      tx.headersAt = received;
      tx.upstreamStatus = String(status);
    }
    let answer: Response;
    if (ctx.plugins === null) {
      if (tx !== null) tx.source = "upstream";
      answer = response;
    } else {
      const hooked = withResponseHooks(ctx.plugins, response, "service");
      answer = hooked instanceof Promise ? await hooked : hooked;
    }
    const own = answer === response;
    const answerHeaders = own ? responseHeaders : answer.headers;
    const bufferMax = ctx.env.bufferMax;
    // Read once, for the large-response window and the log record.
    const declared = bufferMax === 0 && logPhase === null ? null : answerHeaders.get("content-length");
    // Bodies in the large-response window are read here and answered in one chunk (relay.ts).
    if (needsOneChunk(declared, method, bufferMax)) {
      answer = oneChunkResponse(answer, await answer.bytes(), tx);
      return logPhase === null ? answer : complete(tx!, answer, logPhase);
    }
    if (logPhase === null) return answer;
    // Handed over as it is: the head's arrival is the moment its (declared) length is known; a hook's answer
    // may have taken a while longer.
    return completeWith(
      tx!,
      answer,
      own ? status : answer.status,
      answerHeaders,
      declared,
      own ? received : -1,
      logPhase,
    );
  } catch (error) {
    // The response body failed while being buffered: the client went away or the upstream broke off.
    if (request.signal.aborted) {
      const gone = new Response(null, { status: 499 });
      return logPhase === null ? gone : complete(tx!, gone, logPhase);
    }
    if (tx !== null) tx.source = "kong";
    const code = (error as { code?: string } | null)?.code ?? (error as Error | null)?.name ?? "Error";
    logFailure(
      ctx,
      `upstream response body broke off (${code}: ${(error as Error | null)?.message ?? error}) while reading upstream`,
      url,
      502,
    );
    const failure = gatewayResponse(
      502,
      MESSAGES[502],
      ctx.state.request.headers.get("accept"),
      ctx.requestId,
      ctx.env.serverToken,
      ctx.start,
    );
    const answer = ctx.plugins === null ? failure : await withResponseHooks(ctx.plugins, failure, "error");
    return logPhase === null ? answer : complete(tx!, answer, logPhase);
  } finally {
    if (leave !== null) leave();
    // Something above threw instead of answering: the record still reaches its log phase (as `finish` does).
    if (logPhase !== null && tx!.status === 0) failed(tx!, logPhase);
  }
}

async function proxyWebSocket(
  request: Request,
  server: Server<unknown>,
  url: string,
  headers: Headers,
  upstream: UpstreamTarget,
  ctx: Context,
): Promise<Response> {
  const tx = ctx.tx;
  if (tx !== null) tx.sentAt = performance.now();
  const result = await upgradeWebSocket(
    request,
    server,
    url,
    headers,
    upstream.connectTimeout,
    { "x-portico-request-id": ctx.requestId },
    upstream.tls,
  );
  ctx.balanced?.finish(
    result.ok ? 101 : null,
    result.ok ? null : result.failure === "timeout" ? "timeout" : "refused",
  );
  // After a successful upgrade Bun ignores the returned value.
  if (result.ok) {
    if (tx !== null) {
      tx.headersAt = performance.now();
      tx.source = "upstream";
      tx.upstreamStatus = "101";
    }
    return undefined as unknown as Response;
  }
  const status = result.failure === "timeout" ? 504 : 502;
  logFailure(
    ctx,
    result.failure === "timeout"
      ? `upstream timed out (no WebSocket handshake within connect_timeout = ${upstream.connectTimeout} ms) while connecting to upstream`
      : "WebSocket handshake with upstream failed while connecting to upstream",
    url,
    status,
  );
  const failure = gatewayResponse(
    status,
    MESSAGES[status],
    ctx.state.request.headers.get("accept"),
    ctx.requestId,
    ctx.env.serverToken,
    ctx.start,
  );
  return ctx.plugins === null ? failure : withResponseHooks(ctx.plugins, failure, "error");
}
