// RFC 3986 §6.2.2 path normalisation, shared by the route schema (a prefix must already be normal) and the
// proxy (requests are matched and forwarded in normal form, so `/public/../admin` cannot dodge a route).

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/** Decodes %XX of unreserved characters, upper-cases other escapes, merges `//`, removes dot segments. */
export function normalizePath(raw: string): string {
  // Fast path for the common case: nothing to decode, merge or resolve.
  if (!raw.includes("%") && !raw.includes("//") && !raw.includes("/.")) return raw;
  let decoded = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === "%" && HEX.test(raw.slice(i + 1, i + 3))) {
      const byte = Number.parseInt(raw.slice(i + 1, i + 3), 16);
      const char = String.fromCharCode(byte);
      decoded += byte < 0x80 && UNRESERVED.test(char) ? char : `%${raw.slice(i + 1, i + 3).toUpperCase()}`;
      i += 2;
    } else decoded += ch;
  }
  return removeDotSegments(decoded.replace(/\/{2,}/g, "/"));
}

function removeDotSegments(path: string): string {
  if (!path.includes(".")) return path;
  const segments = path.split("/");
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === ".") {
      if (last) out.push("");
    } else if (segment === "..") {
      if (out.length > 1) out.pop();
      if (last) out.push("");
    } else out.push(segment);
  }
  const joined = out.join("/");
  return joined.startsWith("/") ? joined : `/${joined}`;
}

// What a proxied request's path may not contain. normalizePath makes the gateway's view of a path canonical,
// but upstreams read some paths differently from RFC 3986, and then the path the gateway routed (and the
// service's base path it prefixed) is not the one the upstream serves:
// - Tomcat and Jetty cut `;params` off each segment before resolving dot segments, so `/api/..;/admin`
//   is `/admin` there (the "..;/" traversal); `.;` is `.`.
// - IIS and other Windows servers decode `%5C` and treat `\` as `/`, so `/api/..%5Cadmin` is `/admin` and
//   `/api%5Cadmin` is `/api/admin` (a route with its own plugins dodged). Bun's URL parser already turns a
//   raw `\` into `/` (WHATWG), so only the escaped form reaches the gateway.
// - A server that decodes `%2F` before resolving (Tomcat with ALLOW_ENCODED_SLASH) reads `..%2F` as `../`.
// Refused rather than rewritten: a rewrite silently changes the resource for every upstream that does read
// these bytes literally, whereas a clear 400 surprises only the requests that were ambiguous anyway. No
// legitimate client sends a dot segment with parameters or next to an encoded slash, and `%5C` is all but
// unused in API paths. `%2F` alone (GitLab's `projects/group%2Fname`) and `;` parameters on ordinary
// segments (`;jsessionid=`) are kept. Peers: nginx and Kong forward all of these as they are; Envoy's
// `path_with_escaped_slashes_action` can reject or unescape every `%2F`/`%5C` (off by default) and knows
// nothing of `;`. Also refused, as nginx (and so Kong) does: `%` not followed by two hex digits, and `%00`.

/**
 * The path a proxied request is matched and forwarded with, or null when it must be refused (400): an
 * invalid or NUL escape, `%5C` or `\`, or a dot segment an upstream would resolve that the gateway did not
 * (`..;x`, `.;x`, `..%2F`). Runs on every proxied request: one charCode scan, nothing more for plain paths.
 */
export function normalizeRequestPath(raw: string): string | null {
  if (!needsNormalizing(raw)) return raw;
  if (!hasValidEscapes(raw)) return null;
  const path = normalizePath(raw);
  return hasHiddenDotSegment(path) ? null : path;
}

const PERCENT = 37;
const SLASH = 47;
const DOT = 46;
const SEMICOLON = 59;
const BACKSLASH = 92;
const DIGIT_2 = 50;
const UPPER_F = 70;

function needsNormalizing(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT || c === SEMICOLON || c === BACKSLASH) return true;
    if (c === SLASH) {
      const next = raw.charCodeAt(i + 1);
      if (next === SLASH || next === DOT) return true;
    }
  }
  return false;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Every `%` starts a two-digit escape that is neither NUL nor a backslash; no raw backslash either. */
function hasValidEscapes(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === BACKSLASH) return false;
    if (c !== PERCENT) continue;
    const high = hexValue(raw.charCodeAt(i + 1));
    const low = hexValue(raw.charCodeAt(i + 2));
    if (high < 0 || low < 0) return false;
    const byte = high * 16 + low;
    if (byte === 0 || byte === BACKSLASH) return false;
    i += 2;
  }
  return true;
}

/** The characters from `start` up to `end` are `.` or `..`. */
function isDotSegment(path: string, start: number, end: number): boolean {
  const length = end - start;
  return (length === 1 || length === 2) && path.charCodeAt(start) === DOT && path.charCodeAt(end - 1) === DOT;
}

/**
 * A `.` or `..` segment left in a normalised path: only possible with `;params` after it or with an escaped
 * slash (`%2F`, upper-case after normalizePath) as its boundary.
 */
function hasHiddenDotSegment(path: string): boolean {
  let start = 0;
  let paramsAt = -1;
  for (let i = 0; i <= path.length; i++) {
    const c = i === path.length ? SLASH : path.charCodeAt(i);
    let boundary = 0;
    if (c === SLASH) boundary = 1;
    else if (c === PERCENT && path.charCodeAt(i + 1) === DIGIT_2 && path.charCodeAt(i + 2) === UPPER_F)
      boundary = 3;
    if (boundary === 0) {
      if (c === SEMICOLON && paramsAt < 0) paramsAt = i;
      continue;
    }
    if (isDotSegment(path, start, paramsAt < 0 ? i : paramsAt)) return true;
    start = i + boundary;
    paramsAt = -1;
    i += boundary - 1;
  }
  return false;
}
