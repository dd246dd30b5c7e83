// The upstream call with native fetch, following every pitfall in PLATFORM-NOTES: bodies stream both ways
// (duplex half, none for GET/HEAD), no redirect following, no decompression, the client's hang-up aborts the
// upstream call, the read timeout covers only the wait for response headers (a body still streaming is never
// cut; both are watched by one timer per thread, deadlines.ts), and connection failures are retried for
// idempotent requests.
import type { LogTry } from "../plugins/contract.ts";
import { DeadlineWatch, type WatchedCall } from "./deadlines.ts";
import type { UpstreamTarget } from "./snapshot.ts";

/** Methods that may be sent again after a connection failure (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]);

/** Why an upstream call ended without a response. */
export type ForwardFailure = "timeout" | "refused" | "dns" | "too-large" | "client-gone";

/** A failed call: its kind (what the client is answered) and its cause in words, for the error log. */
export type ForwardOutcome =
  | { ok: true; response: Response }
  | { ok: false; failure: ForwardFailure; cause: string };

export type ForwardCall = {
  request: Request;
  method: string;
  url: string;
  headers: Headers;
  /** The request has a body to stream (Content-Length > 0 or chunked). */
  hasBody: boolean;
  /** Byte limit enforced while streaming a body of unknown length; null when Content-Length was checked. */
  streamLimit: number | null;
  upstream: UpstreamTarget;
  /** A body a plugin already read (key_in_body), rewritten or as received; sent instead of the stream. */
  bufferedBody?: string | Uint8Array<ArrayBuffer>;
  /** When the request is logged: each attempt is recorded, and a chunked upload's bytes counted. */
  tx?: Recorder | null;
  /** The address a balanced service's try goes to (logged instead of the service's host and port). */
  peer?: { ip: string; port: number } | null;
};

/** A balanced service's retries: each further try goes to another address. */
export type PeerSwitch = {
  /** A try ended (its outcome feeds the balancer). */
  after(outcome: ForwardOutcome): void;
  /** Points `call` at the next address; false when none is left. */
  next(call: ForwardCall): boolean;
};

/** What forwarding tells the log phase. */
export type Recorder = { tries: LogTry[] | null; requestBodySize: number };

const TIMEOUT = Symbol("timeout");
const CLIENT_GONE = Symbol("client-gone");
const TOO_LARGE = Symbol("too-large");

/**
 * Streams a chunked request body (length unknown) while watching it: counts bytes against the body limit,
 * enforces the write timeout between chunks, and tells when the whole body has been handed to the upstream
 * (the read timeout starts then). Only chunked uploads take this path: reading Bun's request body from
 * JavaScript lets Bun read ahead of the consumer (measured up to +140 MB RSS on a 100 MB upload, see
 * bench/README.md), so the read-ahead is bounded by the body limit here, while bodies with a Content-Length
 * are piped natively with backpressure.
 */
function watchBody(
  body: ReadableStream<Uint8Array>,
  limit: number | null,
  writeTimeout: number,
  abort: (reason: symbol) => void,
  sent: () => void,
  recorder: Recorder | null,
): ReadableStream<Uint8Array> {
  let total = 0;
  const idle = setTimeout(() => abort(TIMEOUT), writeTimeout);
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) {
          clearTimeout(idle);
          controller.close();
          sent();
          return;
        }
        total += value.byteLength;
        if (recorder !== null) recorder.requestBodySize = total;
        if (limit !== null && total > limit) {
          clearTimeout(idle);
          abort(TOO_LARGE);
          controller.error(new Error("request body too large"));
          reader.cancel().catch(() => {});
          return;
        }
        idle.refresh();
        controller.enqueue(value);
      },
      cancel(reason) {
        clearTimeout(idle);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function classify(error: unknown, reason: unknown): ForwardFailure {
  if (reason === TIMEOUT) return "timeout";
  if (reason === CLIENT_GONE) return "client-gone";
  if (reason === TOO_LARGE) return "too-large";
  const code = (error as { code?: string } | null)?.code;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "DNSException") return "dns";
  return "refused";
}

/** TLS failures Bun's fetch reports by OpenSSL's name (verification) or as a handshake error. */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME/;

/** Why the call failed, as nginx words it in its error log (the phase it failed in, and the system's code). */
function describe(failure: ForwardFailure, error: unknown, call: ForwardCall): string {
  const code = (error as { code?: string } | null)?.code ?? (error as Error | null)?.name ?? "Error";
  const message = (error as Error | null)?.message ?? String(error);
  const { upstream } = call;
  switch (failure) {
    case "timeout":
      return call.hasBody && call.streamLimit === null && call.bufferedBody === undefined
        ? `upstream timed out (no response within write_timeout + read_timeout = ${upstream.writeTimeout + upstream.readTimeout} ms) while sending request to or reading response header from upstream`
        : `upstream timed out (no response header within read_timeout = ${upstream.readTimeout} ms) while reading response header from upstream`;
    case "dns":
      return `upstream host "${upstream.host}" could not be resolved (${code}: ${message})`;
    case "too-large":
      return "request body larger than the limit while sending it to upstream";
    case "client-gone":
      return "client closed the connection while waiting for the upstream";
    case "refused":
      if (code === "ECONNREFUSED")
        return `connect() failed (${code}: connection refused) while connecting to upstream`;
      if (TLS_CODE.test(code))
        return `TLS handshake with upstream failed (${code}: ${message}) while SSL handshaking to upstream`;
      if (code === "ECONNRESET")
        return `upstream closed the connection (${code}) while sending request to or reading response header from upstream`;
      return `upstream request failed (${code}: ${message}) while sending request to or reading response header from upstream`;
  }
}

/** This thread's upstream calls waiting for response headers. */
const WAITING = new DeadlineWatch();

/**
 * One try's state: its abort controller and why it was aborted, its entry in the deadline watch, and what
 * fetch is given. A class rather than closures, so a try allocates one object besides the controller and
 * fetch's init. The caller awaits `fetch(call.url, upstreamTry.init)` itself and settles the try with the
 * result (`succeeded` / `failed`), so the pipeline's first try runs in the pipeline's own async frame.
 */
export class UpstreamTry implements WatchedCall {
  readonly controller = new AbortController();
  reason: symbol | undefined = undefined;
  deadline = Number.POSITIVE_INFINITY;
  watchSlot = -1;
  readonly init: RequestInit & { decompress: boolean; duplex?: "half"; tls?: unknown };
  private readonly startedAt: number;

  /** @param now performance.now() as the try starts (the caller has read the clock already). */
  constructor(
    readonly call: ForwardCall,
    now: number,
  ) {
    const upstream = call.upstream;
    const init: RequestInit & { decompress: boolean; duplex?: "half"; tls?: unknown } = {
      method: call.method,
      headers: call.headers,
      redirect: "manual",
      decompress: false,
      signal: this.controller.signal,
    };
    if (upstream.tls !== undefined) init.tls = upstream.tls;
    const request = call.request;
    if (call.bufferedBody !== undefined) {
      if (call.bufferedBody.length > 0) init.body = call.bufferedBody;
      this.deadline = now + upstream.readTimeout;
    } else if (call.hasBody && request.body !== null) {
      init.duplex = "half";
      if (call.streamLimit !== null)
        init.body = watchBody(
          request.body,
          call.streamLimit,
          upstream.writeTimeout,
          (why) => this.abort(why),
          () => this.armReadTimer(),
          call.tx ?? null,
        );
      else {
        // A body of known length is piped natively (backpressure holds end to end), which gives no signal
        // when the upload ends: the wait for headers is bounded by write and read timeouts together.
        init.body = request.body;
        this.deadline = now + upstream.writeTimeout + upstream.readTimeout;
      }
    } else this.deadline = now + upstream.readTimeout;
    this.init = init;
    this.startedAt = now;
    WAITING.add(this);
  }

  /**
   * The client's request signal, read by the deadline watch when it ticks: Bun creates it on first read (and
   * reports a hang-up that came before), so a call answered within a tick never pays for it.
   */
  get client(): AbortSignal {
    return this.call.request.signal;
  }

  abort(why: symbol): void {
    if (this.reason !== undefined) return;
    this.reason = why;
    this.controller.abort();
  }

  /** Watched until the response headers arrive: the read timeout, and the client hanging up. */
  end(why: "timeout" | "client-gone"): void {
    this.abort(why === "timeout" ? TIMEOUT : CLIENT_GONE);
  }

  /** The whole request is with the upstream: the read timeout starts. */
  armReadTimer(): void {
    if (this.reason === undefined) this.deadline = performance.now() + this.call.upstream.readTimeout;
  }

  /** fetch answered with the response head. */
  succeeded(response: Response): ForwardOutcome {
    WAITING.delete(this);
    const call = this.call;
    if (call.tx?.tries) record(call.tx.tries, call.peer ?? call.upstream, this.startedAt, null);
    return { ok: true, response };
  }

  /** fetch failed (refused, aborted by a timeout or the client, a body over the limit…). */
  failed(error: unknown): ForwardOutcome {
    WAITING.delete(this);
    const call = this.call;
    const failure = classify(error, this.reason);
    if (call.tx?.tries)
      record(call.tx.tries, call.peer ?? call.upstream, this.startedAt, FAILURE_STATUS[failure]);
    return { ok: false, failure, cause: describe(failure, error, call) };
  }
}

/**
 * Starts one upstream try: its state, or the outcome at once when the client has already gone. Afterwards a
 * client that leaves is noticed by the deadline watch, and cancels a streamed body itself.
 * @param clientMayBeGone an event-loop turn may have passed since the request arrived (plugins, a retry, a
 * balancer's first DNS answer): whether the client is still there is checked first. Without one, a hang-up
 * is left to the deadline watch, as one a moment after the try started would be.
 * @param now performance.now() when the caller has just read it (the pipeline's send time): one clock
 * reading per request fewer.
 */
export function startTry(
  call: ForwardCall,
  clientMayBeGone: boolean,
  now: number = performance.now(),
): UpstreamTry | ForwardOutcome {
  if (clientMayBeGone && call.request.signal.aborted)
    return { ok: false, failure: "client-gone", cause: describe("client-gone", null, call) };
  return new UpstreamTry(call, now);
}

/** One upstream call; `retry` adds the further attempts. */
export async function attempt(call: ForwardCall): Promise<ForwardOutcome> {
  const upstreamTry = startTry(call, true);
  if (!(upstreamTry instanceof UpstreamTry)) return upstreamTry;
  try {
    return upstreamTry.succeeded(await fetch(call.url, upstreamTry.init));
  } catch (error) {
    return upstreamTry.failed(error);
  }
}

/** The status each failure is answered with (Kong records it on the failed try). */
const FAILURE_STATUS: Record<ForwardFailure, number> = {
  timeout: 504,
  refused: 502,
  dns: 503,
  "too-large": 413,
  "client-gone": 499,
};

function record(
  tries: LogTry[],
  to: { ip: string; port: number } | UpstreamTarget,
  startedAt: number,
  failed: number | null,
): void {
  const now = performance.now();
  const entry: LogTry = {
    ip: "ip" in to ? to.ip : to.host,
    port: to.port,
    balancer_start: Math.round(performance.timeOrigin + startedAt),
    balancer_latency: Math.round(now - startedAt),
  };
  if (failed !== null) {
    entry.state = "failed";
    entry.code = failed;
  }
  tries.push(entry);
}

/**
 * Retries a refused first attempt up to `retries` times for idempotent bodiless requests (the pipeline
 * awaits the first attempt itself, so the common path has no extra async frame); a balanced service's
 * retries move on to other addresses (`peers`). Returns the last outcome.
 */
export async function retry(
  call: ForwardCall,
  first: ForwardOutcome,
  peers: PeerSwitch | null = null,
): Promise<ForwardOutcome> {
  if (call.hasBody || !IDEMPOTENT.has(call.method)) return first;
  let outcome = first;
  for (let left = call.upstream.retries; left > 0; left--) {
    if (peers !== null && !peers.next(call)) return outcome;
    outcome = await attempt(call);
    peers?.after(outcome);
    if (outcome.ok || outcome.failure !== "refused") return outcome;
  }
  return outcome;
}
