// Access-log lines, built from the request's log entry (the same facts the log plugins and metrics read).
//   combined: nginx's combined format plus Kong's trailing request id (kong/templates/nginx_kong.lua):
//     <client> - <basic-auth user> [<time_local>] "<request line>" <status> <body bytes> "<referer>" "<ua>" kong_request_id: "<id>"
//   json: one object per line with the route, service, consumer, status, sizes and Kong's three latencies.
import type { Transaction } from "./transaction.ts";

export type AccessLogFormat = "combined" | "json";

export type AccessLogLine = (tx: Transaction) => string;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

let clockSecond = -1;
let clockText = "";

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** nginx's $time_local (`30/Nov/2026:03:40:44 +0000`), formatted once per second. */
export function timeLocal(now: number): string {
  const second = Math.floor(now / 1000);
  if (second === clockSecond) return clockText;
  const d = new Date(second * 1000);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  clockText = `${two(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
  clockSecond = second;
  return clockText;
}

const UNSAFE = /["\\\u0000-\u001f\u007f-\uffff]/;

/** nginx's escaping of logged variables: `"`, `\`, control and non-ASCII bytes become `\xHH`. */
export function escapeLogValue(value: string): string {
  if (!UNSAFE.test(value)) return value;
  let out = "";
  for (const byte of Buffer.from(value)) {
    if (byte === 0x22 || byte === 0x5c || byte < 0x20 || byte >= 0x7f)
      out += `\\x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** nginx's $remote_user: the user name of a Basic Authorization header, whoever checks it. */
export function remoteUser(authorization: string | null | undefined): string {
  if (authorization == null || !/^basic /i.test(authorization)) return "-";
  const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("latin1");
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? "" : decoded.slice(0, colon);
  return user === "" ? "-" : escapeLogValue(user);
}

/** A logged header: escaped, `-` when absent or empty. */
export const dash = (value: string | null | undefined) =>
  value == null || value === "" ? "-" : escapeLogValue(value);

export function combinedLine(tx: Transaction): string {
  const h = tx.requestHeaders;
  return `${tx.clientIp} - ${remoteUser(h.authorization)} [${timeLocal(Date.now())}] "${tx.method} ${escapeLogValue(tx.uri)} HTTP/1.1" ${tx.status} ${tx.bodySize} "${dash(h.referer)}" "${dash(h["user-agent"])}" kong_request_id: "${tx.requestId}"`;
}

// The combined line as bytes: every part is ASCII once escaped (the client address, method, request id, status
// and size are ASCII anyway), so it is assembled byte by byte into one reused buffer and handed to the writer,
// which copies it once. A template string would be a rope of a dozen parts, flattened and then encoded to
// UTF-8 when written: ~0.75 µs a line against ~0.25 µs here. A part that is not ASCII after all is written as
// UTF-8, so the bytes are always those of combinedLine's string.
let out = Buffer.allocUnsafe(4096);
let at = 0;

/** Makes room for `more` bytes from `at` on. */
function reserve(more: number): Buffer {
  if (at + more <= out.length) return out;
  const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, at + more));
  out.copy(bigger, 0, 0, at);
  out = bigger;
  return out;
}

function put(text: string): void {
  const buffer = reserve(text.length * 3);
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) break;
    buffer[at++] = c;
  }
  if (i < text.length) at += buffer.write(text.slice(i), at, "utf8");
}

/** A non-negative integer's decimal digits (a status, a byte count). */
function putInt(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    put(String(n));
    return;
  }
  const buffer = reserve(16);
  const start = at;
  do {
    buffer[at++] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  // The digits went in lowest first.
  for (let i = start, j = at - 1; i < j; i++, j--) {
    const d = buffer[i]!;
    buffer[i] = buffer[j]!;
    buffer[j] = d;
  }
}

/** combinedLine(tx) as bytes, from the start of the returned buffer; `length` of them. */
export function combinedBytes(tx: Transaction): { buffer: Buffer; length: number } {
  at = 0;
  const h = tx.requestHeaders;
  put(tx.clientIp);
  put(" - ");
  put(remoteUser(h.authorization));
  put(" [");
  put(timeLocal(Date.now()));
  put('] "');
  put(tx.method);
  put(" ");
  put(escapeLogValue(tx.uri));
  put(' HTTP/1.1" ');
  putInt(tx.status);
  put(" ");
  putInt(tx.bodySize);
  put(' "');
  put(dash(h.referer));
  put('" "');
  put(dash(h["user-agent"]));
  put('" kong_request_id: "');
  put(tx.requestId);
  put('"');
  RESULT.buffer = out;
  RESULT.length = at;
  return RESULT;
}

const RESULT = { buffer: out, length: 0 };

/** Where access-log lines go: lines as strings, or (when it can take them) as bytes. */
export type AccessLogSink = {
  format: AccessLogFormat;
  write(line: string): void;
  /** A line as `length` bytes from the start of `bytes`, without its newline (see LineWriter.writeBytes). */
  writeBytes?(bytes: Buffer, length: number): void;
};

/** The access log's step of the log phase: one line per request, in the sink's format. */
export function accessLogger(sink: AccessLogSink): (tx: Transaction) => void {
  const writeBytes = sink.writeBytes;
  if (sink.format === "combined" && writeBytes !== undefined)
    return (tx) => {
      const line = combinedBytes(tx);
      writeBytes(line.buffer, line.length);
    };
  const line = ACCESS_LOG_FORMATS[sink.format];
  return (tx) => sink.write(line(tx));
}

export function jsonLine(tx: Transaction): string {
  const consumer = tx.consumer;
  return JSON.stringify({
    time: new Date(tx.startedAt).toISOString(),
    request_id: tx.requestId,
    client_ip: tx.clientIp,
    method: tx.method,
    uri: tx.uri,
    status: tx.status,
    source: tx.source,
    upstream_status: tx.upstreamStatus === "" ? null : tx.upstreamStatus,
    request_size: tx.requestSize,
    response_size: tx.responseSize,
    body_bytes_sent: tx.bodySize,
    latencies: tx.latencies,
    route: tx.route === null ? null : { id: tx.route.id, name: tx.route.name },
    service: tx.upstream === null ? null : { id: tx.upstream.id, name: tx.upstream.name },
    consumer:
      consumer === null
        ? null
        : { id: consumer.id, username: consumer.username, custom_id: consumer.custom_id },
    user_agent: tx.requestHeaders["user-agent"] ?? null,
  });
}

export const ACCESS_LOG_FORMATS: Record<AccessLogFormat, AccessLogLine> = {
  combined: combinedLine,
  json: jsonLine,
};
