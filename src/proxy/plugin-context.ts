// The PluginContext of one proxied request: what plugins may read and change. Built only for routes that
// have a plugin chain, so requests without plugins pay nothing. It is also the request's plugin run (its
// chain, its log record, the snapshot lifecycle it holds): one object per request with plugins, whose
// request facts are read from the pipeline's request state rather than copied into it.
import type { PluginChain } from "../plugins/chain.ts";
import type { ConsumerIdentity, CredentialIdentity, PluginContext } from "../plugins/contract.ts";
import type { CredentialIndex } from "../plugins/credential-index.ts";
import { errorBody } from "./error-format.ts";
import type { ReceivedHeaders } from "./headers.ts";
import { MESSAGES } from "./responses.ts";
import type { Transaction } from "./transaction.ts";

/** What the context reads of the pipeline's state of a matched request (read, never copied, per request). */
export type RequestState = {
  readonly request: Request;
  /** The client's headers as received (one toJSON, before anything edited them). */
  readonly received: ReceivedHeaders;
  readonly method: string;
  /** Normalised path. */
  readonly path: string;
  readonly query: string;
  /** The client's address is read from it only when a plugin asks (a getpeername). */
  readonly peer: { readonly clientIp: string };
  readonly requestId: string;
  readonly route: { readonly ref: { id: string; name: string | null } };
  readonly captures: RegExpExecArray | null;
  readonly upstream: { readonly ref: { id: string; name: string | null } };
  readonly env: { readonly serverToken: string };
  readonly start: number;
  /** Most bytes a body of unannounced length may have (null: its Content-Length was already checked). */
  readonly streamLimit: number | null;
};

export class ProxyPluginContext<S extends RequestState = RequestState> implements PluginContext {
  consumer: ConsumerIdentity | null = null;
  credential: CredentialIdentity | null = null;
  anonymous = false;
  /** Set by setUpstreamQuery; undefined keeps the client's query. */
  replacedQuery: string | undefined = undefined;
  /** Set by setUpstreamPath, setUpstreamMethod and setUpstreamHost; undefined keeps what the route gives. */
  upstreamPath: string | undefined = undefined;
  upstreamMethod: string | undefined = undefined;
  upstreamHost: string | undefined = undefined;
  /** A body a plugin replaced (setUpstreamBody); forwarded instead of the client's. */
  bodyText: string | Uint8Array<ArrayBuffer> | undefined = undefined;
  /**
   * The client's body as received, once a plugin has read it (the stream is then spent). It is forwarded as
   * these exact bytes: decoding to text and back would corrupt bytes that are not UTF-8 (a latin-1 form).
   */
  receivedBody: Uint8Array<ArrayBuffer> | undefined = undefined;
  /** The status a body over `streamLimit` gets (a plugin's limit may ask for 417). */
  tooLargeStatus = 413;
  /**
   * Headers for whatever response goes out (setResponseHeader), in the order they were set: name, value,
   * name, value… (one flat list: rate-limiting hands over its five per request as one array).
   */
  responseHeaders: string[] | null = null;
  /** Fields plugins added to the log serializer record (setSerializeValue). */
  serializeValues: Record<string, unknown> | null = null;
  /**
   * Most bytes a body of unannounced length may have (null: its Content-Length was already checked); a
   * plugin may lower it (limitBody).
   */
  streamLimit: number | null;
  /**
   * An access hook returned a promise: the event loop may have turned since the request arrived (so the
   * client may have gone). A synchronous access phase lets no turn pass.
   */
  awaited = false;
  /**
   * Releases the snapshot's plugin instances once this request's answer is produced (null: already handed
   * on — to the upstream call, which releases them when it returns, or to the log phase).
   */
  leave: (() => void) | null = null;
  editedEarlier: ReadonlySet<string> | null = null;
  #decoded: string | undefined = undefined;

  constructor(
    /** The pipeline's state of the request (not part of PluginContext). */
    readonly state: S,
    /** The route's plugin chain. */
    readonly chain: PluginChain,
    /** Headers that go upstream (plugins edit them). */
    readonly upstreamHeaders: Headers,
    readonly credentials: CredentialIndex,
    /** The request's log record, when something logs it. */
    readonly tx: Transaction | null,
  ) {
    this.streamLimit = state.streamLimit;
  }

  get request(): Request {
    return this.state.request;
  }

  get method(): string {
    return this.state.method;
  }

  get path(): string {
    return this.state.path;
  }

  get query(): string {
    return this.state.query;
  }

  get requestId(): string {
    return this.state.requestId;
  }

  get route(): { id: string; name: string | null } {
    return this.state.route.ref;
  }

  get uriCaptures(): RegExpExecArray | null {
    return this.state.captures;
  }

  get service(): { id: string; name: string | null } {
    return this.state.upstream.ref;
  }

  private get serverToken(): string {
    return this.state.env.serverToken;
  }

  private get start(): number {
    return this.state.start;
  }

  get clientIp(): string {
    return this.state.peer.clientIp;
  }

  requestHeader(name: string): string | null {
    const lower = name.toLowerCase();
    const earlier = this.editedEarlier;
    // Set-Cookie is the one header toJSON gives as a list.
    if (earlier === null || earlier.has(lower) || lower === "set-cookie")
      return this.request.headers.get(name);
    return this.state.received[lower] ?? null;
  }

  upstreamHeaderMayBePresent(name: string): boolean {
    const earlier = this.editedEarlier;
    return earlier === null || earlier.has(name) || this.state.received[name] !== undefined;
  }

  setUpstreamQuery(query: string): void {
    this.replacedQuery = query;
  }

  get upstreamQuery(): string {
    return this.replacedQuery ?? this.query;
  }

  setUpstreamPath(path: string): void {
    this.upstreamPath = path;
  }

  setUpstreamMethod(method: string): void {
    this.upstreamMethod = method;
  }

  setUpstreamHost(host: string): void {
    this.upstreamHost = host;
  }

  async readBodyText(): Promise<string> {
    if (this.#decoded === undefined) {
      const bytes = await this.readBodyBytes();
      this.#decoded = Buffer.from(bytes).toString("utf8");
    }
    return this.#decoded;
  }

  async readBodyBytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.receivedBody === undefined) {
      const body = this.method === "GET" || this.method === "HEAD" ? null : this.request.body;
      if (body === null) this.receivedBody = new Uint8Array(0);
      else if (this.streamLimit === null)
        this.receivedBody = new Uint8Array(await this.request.arrayBuffer());
      // A chunked body is buffered here instead of streamed: the proxy's body limit must hold all the same,
      // or a key_in_body route would buffer any upload whole.
      else this.receivedBody = await readLimited(body, this.streamLimit);
    }
    return this.receivedBody;
  }

  setUpstreamBody(body: string | Uint8Array<ArrayBuffer>, contentType?: string): void {
    this.bodyText = body;
    // The client's framing no longer describes the body: send the new length instead.
    this.upstreamHeaders.delete("transfer-encoding");
    const length = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    this.upstreamHeaders.set("content-length", String(length));
    if (contentType !== undefined) this.upstreamHeaders.set("content-type", contentType);
  }

  limitBody(limit: number, status: number): Response | undefined {
    const refuse = () => this.respond(status, MESSAGES[413]);
    if (this.receivedBody !== undefined) return this.receivedBody.byteLength > limit ? refuse() : undefined;
    const announced = this.request.headers.get("content-length");
    if (announced !== null) return Number(announced) > limit ? refuse() : undefined;
    // No length and no chunked framing: there is no body.
    if (this.streamLimit === null) return undefined;
    // A GET's or HEAD's body never reaches the upstream (Bun's server drops it), so only others count.
    if (limit < this.streamLimit) {
      this.streamLimit = limit;
      this.tooLargeStatus = status;
    }
    return undefined;
  }

  respond(
    status: number,
    body: string | Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Response {
    // A message is Kong's kong.response.error (format by Accept); a table is kong.response.exit (JSON).
    const { text, contentType } =
      typeof body === "string"
        ? errorBody(this.request.headers.get("accept"), body, this.requestId)
        : { text: JSON.stringify(body), contentType: "application/json; charset=utf-8" };
    return new Response(text, {
      status,
      headers: {
        "content-type": contentType,
        // Bun would send the same; set here, the log phase knows the size without reading the body.
        "content-length": String(Buffer.byteLength(text)),
        server: this.serverToken,
        "x-portico-request-id": this.requestId,
        "x-portico-response-latency": String(Math.round(performance.now() - this.start)),
        ...headers,
      },
    });
  }

  setResponseHeader(name: string, value: string): void {
    if (this.responseHeaders === null) this.responseHeaders = [name, value];
    else this.responseHeaders.push(name, value);
  }

  setResponseHeaders(list: string[]): void {
    // The first list is kept as it is (the plugin handed over a new array); later ones are appended to it.
    if (this.responseHeaders === null) this.responseHeaders = list;
    else for (let i = 0; i < list.length; i++) this.responseHeaders.push(list[i]!);
  }

  setSerializeValue(key: string, value: unknown): void {
    this.serializeValues ??= {};
    this.serializeValues[key] = value;
  }

  /** Adds the headers plugins asked for to the response that goes out. */
  applyResponseHeaders(headers: Headers): void {
    const list = this.responseHeaders;
    if (list === null) return;
    for (let i = 0; i < list.length; i += 2) headers.set(list[i]!, list[i + 1]!);
  }

  exit(
    status: number,
    body: string | Uint8Array<ArrayBuffer> | null = null,
    headers?: HeadersInit,
  ): Response {
    const all = new Headers(headers);
    all.set("server", this.serverToken);
    all.set("x-portico-request-id", this.requestId);
    all.set("x-portico-response-latency", String(Math.round(performance.now() - this.start)));
    return new Response(body, { status, headers: all });
  }

  exitWithHeaders(status: number, body: Blob | null, headers: Headers): Response {
    return answerWithHeaders(status, body, headers, this.serverToken, this.requestId, this.start);
  }
}

/**
 * A gateway answer with a copy of `headers` (which name none of the gateway's own) and the gateway's Server,
 * request id and latency headers: PluginContext.exitWithHeaders, and a shortcut's answer (no context exists).
 */
export function answerWithHeaders(
  status: number,
  body: Blob | null,
  headers: Headers,
  serverToken: string,
  requestId: string,
  start: number,
): Response {
  const response = new Response(body, { status, headers });
  const own = response.headers;
  own.set("server", serverToken);
  own.set("x-portico-request-id", requestId);
  own.set("x-portico-response-latency", String(Math.round(performance.now() - start)));
  return response;
}

/** Thrown by readBodyText when a body of unannounced length grows past the limit; the proxy answers 413. */
export class BodyTooLarge extends Error {}

async function readLimited(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
