// The value a consistent-hashing upstream hashes for one request (Kong's balancer get_value_to_hash): from
// hash_on, or hash_fallback when that yields nothing, or the empty string. For hash_on=cookie with no cookie,
// a new UUID is hashed and handed back to be set on the response, as Kong does.
import type { HashOn, Upstream } from "../../schemas/upstreams.ts";

export type HashInputs = {
  headers: Headers;
  clientIp: string;
  /** The normalised request path. */
  path: string;
  /** The query string with its `?`, or "". */
  query: string;
  captures: RegExpExecArray | null;
  consumerId: string | null;
  credentialId: string | null;
};

export type HashSpec = Readonly<{
  on: HashOn;
  onName: string | null;
  fallback: HashOn;
  fallbackName: string | null;
  cookiePath: string;
}>;

export function hashSpec(upstream: Upstream): HashSpec {
  const nameFor = (on: HashOn, primary: boolean): string | null => {
    switch (on) {
      case "header":
        return primary ? upstream.hash_on_header : upstream.hash_fallback_header;
      case "cookie":
        return upstream.hash_on_cookie;
      case "query_arg":
        return primary ? upstream.hash_on_query_arg : upstream.hash_fallback_query_arg;
      case "uri_capture":
        return primary ? upstream.hash_on_uri_capture : upstream.hash_fallback_uri_capture;
      default:
        return null;
    }
  };
  return {
    on: upstream.hash_on,
    onName: nameFor(upstream.hash_on, true),
    fallback: upstream.hash_fallback,
    fallbackName: nameFor(upstream.hash_fallback, false),
    cookiePath: upstream.hash_on_cookie_path,
  };
}

function cookieValue(header: string | null, name: string): string | null {
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function queryArg(query: string, name: string): string | null {
  if (query === "") return null;
  const values = new URLSearchParams(query).getAll(name);
  return values.length === 0 ? null : values.join(",");
}

function inputValue(on: HashOn, name: string | null, inputs: HashInputs): string | null {
  switch (on) {
    case "none":
      return null;
    case "consumer":
      return inputs.consumerId ?? inputs.credentialId;
    case "ip":
      return inputs.clientIp || null;
    case "header":
      return inputs.headers.get(name!);
    case "cookie":
      return cookieValue(inputs.headers.get("cookie"), name!);
    case "path":
      return inputs.path;
    case "query_arg":
      return queryArg(inputs.query, name!);
    case "uri_capture": {
      const captures = inputs.captures;
      if (captures === null) return null;
      const value = /^\d+$/.test(name!) ? captures[Number(name)] : captures.groups?.[name!];
      return value === undefined || value === "" ? null : value;
    }
  }
}

/** The hash input, and the Set-Cookie to send when a hashing cookie was generated. */
export function hashInput(spec: HashSpec, inputs: HashInputs): { key: string; setCookie: string | null } {
  const primary = inputValue(spec.on, spec.onName, inputs);
  if (primary !== null && primary !== "") return { key: primary, setCookie: null };
  if (spec.on === "cookie") {
    const generated = crypto.randomUUID();
    return {
      key: generated,
      setCookie: `${spec.onName}=${generated}; Path=${spec.cookiePath}; Same-Site=Lax; HttpOnly`,
    };
  }
  const fallback = inputValue(spec.fallback, spec.fallbackName, inputs);
  return { key: fallback ?? "", setCookie: null };
}
