// Kong's header-name, cookie-name and SNI typedefs (kong/tools/http.lua, kong/db/schema/typedefs.lua).
import { parseHostPort } from "./host-port.ts";

/** Kong's header_name: letters, digits, `-` and `_` only (what nginx passes on). */
export function validateHeaderName(value: string): string | null {
  if (value === "") return "length must be at least 1";
  if (/^[A-Za-z0-9_-]+$/.test(value)) return null;
  return `bad header name '${value}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`;
}

/** Kong's cookie_name: an HTTP token (RFC 2616). */
export function validateCookieName(value: string): string | null {
  if (value === "") return "length must be at least 1";
  if (!/[\x00-\x20\x7f()<>@,;:\\"/?={}[\]]/.test(value)) return null;
  return 'contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\\"/?={}[] are not allowed.';
}

/** Kong's sni typedef: a host name, never an IP address or a port. */
export function validateSni(value: string): string | null {
  if (value === "") return "length must be at least 1";
  const parsed = parseHostPort(value);
  if (typeof parsed === "string") {
    if (parsed === "invalid port number") return "must not have a port";
    return `invalid value: ${value}`;
  }
  if (parsed.kind !== "name") return "must not be an IP";
  if (parsed.port !== null) return "must not have a port";
  return null;
}
