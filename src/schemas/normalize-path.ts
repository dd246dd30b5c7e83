// RFC 3986 §6.2.2 path normalisation, shared by the route schema (a prefix must already be normal) and the
// proxy (requests are matched and forwarded in normal form, so `/public/../admin` cannot dodge a route).

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/** Decodes %XX of unreserved characters, upper-cases other escapes, merges `//`, removes dot segments. */
export function normalizePath(raw: string): string {
  // Fast path for the common case: nothing to decode, merge or resolve. Runs on every proxied request.
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
