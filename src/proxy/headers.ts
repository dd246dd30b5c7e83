// Header rules of a faithful proxy. The client's Headers object is rewritten in place and handed to fetch
// (no copy); the upstream's response Headers likewise. Every name and constant is precomputed.

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy Keep-Alive/Proxy-Connection): never forwarded. `Proxy`
 * is not hop-by-hop, but CGI-style upstreams turn it into HTTP_PROXY, the variable their HTTP clients take
 * their outgoing proxy from (httpoxy); Kong clears it too.
 */
const REQUEST_HOP_BY_HOP = [
  "keep-alive",
  "proxy",
  "proxy-connection",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
] as const;

const RESPONSE_HOP_BY_HOP = [
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
] as const;

/**
 * Characters a Host header may carry: RFC 3986's reg-name (unreserved, sub-delims, %-escapes), `:` for the
 * port and `[]` for IPv6. A comma is left out: Bun joins repeated Host headers with ", ", so it means two.
 */
const HOST_CHARS = (() => {
  const allowed = new Uint8Array(128);
  for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+;=%:[]")
    allowed[ch.charCodeAt(0)] = 1;
  return allowed;
})();

/**
 * A Host header the gateway can route by and repeat upstream: non-empty, only the characters above. Bun's
 * server refuses NUL and most control characters itself but lets tab, space, DEL, `/` and the rest through;
 * nginx (so Kong) answers 400 to those. `\`, `@`, `?`, `#` and bytes above 0x7F (which nginx lets pass) are
 * refused too: none can be part of a host, and https redirects build `https://<host><path>` from this header.
 */
export function isValidHost(host: string): boolean {
  if (host.length === 0) return false;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c > 127 || HOST_CHARS[c] === 0) return false;
  }
  return true;
}

/** Removes `Connection` and every header it names. */
function stripConnectionTokens(headers: Headers): void {
  const connection = headers.get("connection");
  if (connection !== null) removeConnection(headers, connection);
}

/**
 * `stripConnectionTokens` for headers still as `received`: returns the names Connection made it delete
 * (null without a Connection header).
 */
function stripConnectionTokensOf(headers: Headers, received: ReceivedHeaders): string[] | null {
  const connection = received.connection;
  return connection === undefined ? null : removeConnection(headers, connection);
}

/** Deletes `Connection` and the headers its value names; returns those names. */
function removeConnection(headers: Headers, connection: string): string[] {
  headers.delete("connection");
  const named: string[] = [];
  for (const token of connection.split(",")) {
    const name = token.trim().toLowerCase();
    if (name !== "" && name !== "close" && name !== "keep-alive" && name !== "upgrade") {
      // Deleted whether present or not, as before (a name Headers refuses throws here as it always did).
      headers.delete(name);
      named.push(name);
    }
  }
  return named;
}

export function stripRequestHopByHop(headers: Headers): void {
  stripConnectionTokens(headers);
  for (const name of REQUEST_HOP_BY_HOP) headers.delete(name);
}

export function stripResponseHopByHop(headers: Headers): void {
  stripConnectionTokens(headers);
  for (const name of RESPONSE_HOP_BY_HOP) headers.delete(name);
}

/** What the upstream is told about the original request (the pipeline's per-request state has these fields). */
export type ForwardedFacts = {
  /** The connection's peer, the client behind it and the scheme (peer.ts: read only when forwarding). */
  readonly peer: {
    readonly peerIp: string;
    readonly clientIp: string;
    /** The peer is a trusted proxy: the X-Forwarded-* it sent are kept. */
    readonly trusted: boolean;
    readonly scheme: string;
  };
  /** Request host without port, lower-cased. */
  readonly host: string;
  /** The listener port. */
  readonly port: string;
  /** The request path as the client sent it, without query. */
  readonly rawPath: string;
  readonly requestId: string;
};

/**
 * The client's headers as received: `Headers.toJSON()`, read once by the pipeline before anything rewrites
 * them. Names are lower-case and a repeated header is joined with ", " as `Headers.get` joins it, except
 * Set-Cookie, which comes as a list (typed as a string here: never read by name from this object).
 */
export type ReceivedHeaders = Readonly<Record<string, string>>;

const REQUEST_HOP_BY_HOP_SET: ReadonlySet<string> = new Set(REQUEST_HOP_BY_HOP);

/** The request headers whose presence or value `setForwardedHeaders` takes from the snapshot it is given. */
const READ_FROM_SNAPSHOT: ReadonlySet<string> = new Set([
  ...REQUEST_HOP_BY_HOP,
  "connection",
  "via",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-forwarded-path",
  "x-forwarded-prefix",
]);

/**
 * After access hooks that may edit these request headers (null: any), the snapshot still tells every header
 * `setForwardedHeaders` reads exactly (as received), so the rewrite may be guided by it.
 */
export function snapshotSurvives(edits: ReadonlySet<string> | null): boolean {
  if (edits === null) return false;
  for (const name of edits) if (READ_FROM_SNAPSHOT.has(name)) return false;
  return true;
}

/**
 * Rewrites the client's headers for the upstream. X-Forwarded-For and Via are appended to (as Kong: the
 * peer's address is added to a list the client sent). The other X-Forwarded-* are replaced, unless the peer
 * is a trusted proxy, whose values are kept and only missing ones filled in.
 * @param hostHeader the Host to send, or null to keep the client's (preserve_host)
 * @param prefix the stripped prefix; "" when nothing (or only `/`) was stripped
 * @param via `1.1 portico/<version>`
 * @param received the headers as received, when `headers` still holds exactly those (no plugin has edited
 * them): what is read comes from it, and only the hop-by-hop headers present are deleted (a Headers call
 * costs several hundred instructions, a property read of the snapshot a few). Null: `headers` is read.
 */
export function setForwardedHeaders(
  headers: Headers,
  hostHeader: string | null,
  f: ForwardedFacts,
  prefix: string,
  via: string,
  received: ReceivedHeaders | null = null,
): void {
  // Names Connection made the strip delete (null: none), for reads of the snapshot.
  let named: string[] | null = null;
  if (received === null) stripRequestHopByHop(headers);
  else {
    named = stripConnectionTokensOf(headers, received);
    for (const name in received) if (REQUEST_HOP_BY_HOP_SET.has(name)) headers.delete(name);
  }
  const xff = current(headers, received, named, "x-forwarded-for");
  const upstreamVia = current(headers, received, named, "via");
  if (hostHeader !== null) headers.set("host", hostHeader);
  const peer = f.peer;
  headers.set("x-forwarded-for", xff === null ? peer.clientIp : `${xff}, ${peer.peerIp}`);
  headers.set("x-real-ip", peer.clientIp);
  if (peer.trusted) {
    if (!has(headers, received, named, "x-forwarded-proto")) headers.set("x-forwarded-proto", peer.scheme);
    if (!has(headers, received, named, "x-forwarded-host")) headers.set("x-forwarded-host", f.host);
    if (!has(headers, received, named, "x-forwarded-port")) headers.set("x-forwarded-port", f.port);
    if (!has(headers, received, named, "x-forwarded-path")) headers.set("x-forwarded-path", f.rawPath);
    if (prefix !== "" && !has(headers, received, named, "x-forwarded-prefix"))
      headers.set("x-forwarded-prefix", prefix);
  } else {
    headers.set("x-forwarded-proto", peer.scheme);
    headers.set("x-forwarded-host", f.host);
    headers.set("x-forwarded-port", f.port);
    headers.set("x-forwarded-path", f.rawPath);
    if (prefix !== "") headers.set("x-forwarded-prefix", prefix);
    else if (has(headers, received, named, "x-forwarded-prefix")) headers.delete("x-forwarded-prefix");
  }
  headers.set("via", upstreamVia === null ? via : `${upstreamVia}, ${via}`);
  headers.set("x-portico-request-id", f.requestId);
}

/** A header's value after the hop-by-hop strip: from the snapshot when there is one, else from `headers`. */
function current(
  headers: Headers,
  received: ReceivedHeaders | null,
  named: string[] | null,
  name: string,
): string | null {
  if (received === null) return headers.get(name);
  const value = received[name];
  return value === undefined || named?.includes(name) === true ? null : value;
}

function has(
  headers: Headers,
  received: ReceivedHeaders | null,
  named: string[] | null,
  name: string,
): boolean {
  return received === null ? headers.has(name) : current(headers, received, named, name) !== null;
}

function setIfMissing(headers: Headers, name: string, value: string): void {
  if (!headers.has(name)) headers.set(name, value);
}

/**
 * Adds the gateway's response headers to a proxied response (its hop-by-hop headers already gone). The
 * upstream's `Server` is kept; without one, the gateway's own token stands in (Kong's server_tokens).
 */
export function setResponseHeaders(
  headers: Headers,
  tokens: { via: string; serverToken: string },
  requestId: string,
  upstreamMs: number,
  proxyMs: number,
): void {
  setIfMissing(headers, "server", tokens.serverToken);
  const via = tokens.via;
  const upstreamVia = headers.get("via");
  headers.set("via", upstreamVia === null ? via : `${upstreamVia}, ${via}`);
  headers.set("x-portico-upstream-latency", String(upstreamMs));
  headers.set("x-portico-proxy-latency", String(proxyMs));
  headers.set("x-portico-request-id", requestId);
}
