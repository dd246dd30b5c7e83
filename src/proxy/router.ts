// Kong's traditional_compatible router: compile routes once per snapshot, then match requests against
// the compiled form. Priority and matching follow kong/router/compat.lua (see KONG-REFERENCE §4):
//   1. number of matcher kinds set (methods, hosts, headers, snis, paths)
//   2. only plain hosts (no wildcard)   3. number of headers   4. regex path over prefix
//   5. regex_priority (regex only)      6. longest prefix      7. oldest created_at (then id)
// A route with several paths is split into one entry per path, so each path ranks on its own (Kong splits by
// prefix length and regex-ness; per path gives the same order).
//
// Matching never scans the whole table: prefix entries are found through a map keyed by prefix (one lookup
// per distinct prefix length), entries with only exact hosts through a map keyed by host, and the rest
// (regex paths, wildcard hosts, methods/headers only) are scanned. Each list is sorted by rank, so the best
// candidate of each list is the first that matches, and a list stops as soon as it cannot beat the best.
import { compileHeaderRegex, compilePathRegex, type RouteRegex } from "../schemas/route-matchers.ts";
import type { Route } from "../schemas/routes.ts";

/** What the router needs to know about one request; the host is lower-cased and without port. */
export type RequestFacts = {
  method: string;
  host: string;
  /** The port the request arrived on (Kong's `net.dst.port`). */
  port: number;
  /** The normalised path, without query string. */
  path: string;
  headers: Headers;
  /** TLS server name; null on plain HTTP (SNI matchers are then not considered, as in Kong). */
  sni: string | null;
};

export type RouteMatch<T> = {
  value: T;
  /** The part of the path the route matched: its prefix or the regex match; "" for a route without paths. */
  matched: string;
  /**
   * The regex path's match when its pattern has capture groups (numbered from 1, named in `groups`; Kong's
   * `uri_captures`), else null. The router's own exec result: nothing is allocated for it.
   */
  captures: RegExpExecArray | null;
};

export type Router<T> = {
  match(request: RequestFacts): RouteMatch<T> | null;
  /** Number of compiled entries (routes × paths). */
  readonly size: number;
};

type HostMatcher = { kind: "exact" | "suffix" | "prefix"; value: string; port: number | null };
type HeaderMatcher = { name: string; values: readonly string[]; regexes: readonly RouteRegex[] };

type Entry<T> = {
  rank: number;
  value: T;
  // Only what ordering needs is kept of the route: a snapshot must not hold every Route object alive (a
  // bigger heap makes each garbage collection of the proxy process dearer).
  createdAt: number;
  id: string;
  methods: readonly string[] | null;
  hosts: readonly HostMatcher[] | null;
  headers: readonly HeaderMatcher[] | null;
  snis: readonly string[] | null;
  prefix: string | null;
  regex: RouteRegex | null;
  // sort keys
  weight: number;
  plainHostsOnly: boolean;
  headerCount: number;
  regexPriority: number;
  uriLength: number;
  pathIndex: number;
};

/** Kong caps the header count used for sorting. */
const MAX_HEADER_COUNT = 255;

const nonEmpty = <V>(list: readonly V[] | null | undefined): list is readonly V[] =>
  list !== null && list !== undefined && list.length > 0;

function compileHost(host: string): HostMatcher {
  let name = host.toLowerCase();
  let port: number | null = null;
  // A bare IPv6 address has several colons and no port; the request side sees it as `[addr]`.
  if (name.indexOf(":") !== name.lastIndexOf(":") && !name.startsWith("["))
    return { kind: "exact", value: `[${name}]`, port };
  const withPort = /^(.*[^:]):(\d+)$/.exec(name);
  if (withPort) {
    name = withPort[1]!;
    port = Number(withPort[2]);
  }
  if (name.startsWith("*")) return { kind: "suffix", value: name.slice(1), port };
  if (name.endsWith("*")) return { kind: "prefix", value: name.slice(0, -1), port };
  return { kind: "exact", value: name, port };
}

function compileHeaders(headers: Record<string, string[]>): HeaderMatcher[] {
  return Object.entries(headers).map(([name, list]) => {
    const values: string[] = [];
    const regexes: RouteRegex[] = [];
    for (const v of list) {
      if (v.startsWith("~*")) regexes.push(compileHeaderRegex(v.slice(2)));
      else values.push(v.toLowerCase());
    }
    return { name: name.toLowerCase(), values, regexes };
  });
}

function compileEntries<T>(route: Route, value: T): Entry<T>[] {
  const methods = nonEmpty(route.methods) ? route.methods : null;
  const hosts = nonEmpty(route.hosts) ? route.hosts.map(compileHost) : null;
  const headerMap = route.headers && Object.keys(route.headers).length > 0 ? route.headers : null;
  const headers = headerMap ? compileHeaders(headerMap) : null;
  const snis = nonEmpty(route.snis) ? route.snis.map((s) => s.toLowerCase()) : null;
  const paths = nonEmpty(route.paths) ? route.paths : null;
  const weight = [methods, hosts, headers, snis, paths].filter((m) => m !== null).length;
  const plainHostsOnly = hosts?.every((h) => h.kind === "exact") ?? false;
  const headerCount = Math.min(headers?.length ?? 0, MAX_HEADER_COUNT);
  const base = {
    value,
    createdAt: route.created_at,
    id: route.id,
    methods,
    hosts,
    headers,
    snis,
    weight,
    plainHostsOnly,
    headerCount,
  };
  if (paths === null)
    return [{ ...base, rank: 0, prefix: null, regex: null, regexPriority: 0, uriLength: 0, pathIndex: 0 }];
  return paths.map((path, pathIndex) => {
    const regex = path.startsWith("~") ? compilePathRegex(path.slice(1)) : null;
    return {
      ...base,
      rank: 0,
      prefix: regex ? null : path,
      regex,
      regexPriority: regex ? route.regex_priority : 0,
      uriLength: regex ? 0 : path.length,
      pathIndex,
    };
  });
}

/** Negative when `a` ranks before (wins over) `b`. */
function compareEntries<T>(a: Entry<T>, b: Entry<T>): number {
  return (
    b.weight - a.weight ||
    Number(b.plainHostsOnly) - Number(a.plainHostsOnly) ||
    b.headerCount - a.headerCount ||
    Number(b.regex !== null) - Number(a.regex !== null) ||
    b.regexPriority - a.regexPriority ||
    b.uriLength - a.uriLength ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
    a.pathIndex - b.pathIndex
  );
}

function hostMatches(hosts: readonly HostMatcher[], host: string, port: number): boolean {
  for (const h of hosts) {
    if (h.port !== null && h.port !== port) continue;
    if (
      h.kind === "exact"
        ? host === h.value
        : h.kind === "suffix"
          ? host.endsWith(h.value)
          : host.startsWith(h.value)
    )
      return true;
  }
  return false;
}

function headerValueMatches(m: HeaderMatcher, raw: string): boolean {
  const value = raw.toLowerCase();
  for (const v of m.values) if (value === v) return true;
  for (const re of m.regexes) if (re.test(raw)) return true;
  // Repeated request headers arrive joined with ", ": any one of them may match.
  if (raw.includes(",")) {
    for (const part of raw.split(",")) {
      const p = part.trim();
      if (p !== raw && headerValueMatches(m, p)) return true;
    }
  }
  return false;
}

/** Everything but the path (which the index or `pathMatch` has checked). */
function otherMatchersPass<T>(e: Entry<T>, r: RequestFacts): boolean {
  if (e.methods !== null && !e.methods.includes(r.method)) return false;
  if (e.hosts !== null && !hostMatches(e.hosts, r.host, r.port)) return false;
  if (e.headers !== null) {
    for (const m of e.headers) {
      const raw = r.headers.get(m.name);
      if (raw === null || !headerValueMatches(m, raw)) return false;
    }
  }
  if (e.snis !== null && r.sni !== null && !e.snis.includes(r.sni)) return false;
  return true;
}

/**
 * Compiles the routing table. A route whose matchers cannot be compiled (the schema should have refused it)
 * is left out and reported through `onFault`, so one bad route never takes the others down.
 */
export function compileRouter<T>(
  routes: readonly { route: Route; value: T }[],
  onFault: (route: Route, error: unknown) => void = () => {},
): Router<T> {
  const entries = routes
    .flatMap(({ route, value }) => {
      try {
        return compileEntries(route, value);
      } catch (error) {
        onFault(route, error);
        return [];
      }
    })
    .sort(compareEntries);
  entries.forEach((e, i) => {
    e.rank = i;
  });

  const byPrefix = new Map<string, Entry<T>[]>();
  const byHost = new Map<string, Entry<T>[]>();
  const scanned: Entry<T>[] = [];
  const add = (map: Map<string, Entry<T>[]>, key: string, e: Entry<T>) => {
    const list = map.get(key);
    if (list) list.push(e);
    else map.set(key, [e]);
  };
  for (const e of entries) {
    if (e.prefix !== null) add(byPrefix, e.prefix, e);
    else if (
      e.regex === null &&
      e.hosts !== null &&
      e.hosts.every((h) => h.kind === "exact" && h.port === null)
    )
      for (const host of new Set(e.hosts.map((h) => h.value))) add(byHost, host, e);
    else scanned.push(e);
  }
  const prefixLengths = [...new Set([...byPrefix.keys()].map((p) => p.length))].sort((a, b) => a - b);

  return {
    size: entries.length,
    match(r) {
      let best: Entry<T> | null = null;
      let matched = "";
      let captures: RegExpExecArray | null = null;
      const path = r.path;
      for (const length of prefixLengths) {
        if (length > path.length) break;
        const list = byPrefix.get(length === path.length ? path : path.slice(0, length));
        if (list === undefined) continue;
        for (const e of list) {
          if (best !== null && e.rank >= best.rank) break;
          if (otherMatchersPass(e, r)) {
            best = e;
            matched = e.prefix!;
            break;
          }
        }
      }
      const hostList = byHost.get(r.host);
      if (hostList !== undefined) {
        for (const e of hostList) {
          if (best !== null && e.rank >= best.rank) break;
          if (otherMatchersPass(e, r)) {
            best = e;
            matched = "";
            break;
          }
        }
      }
      for (const e of scanned) {
        if (best !== null && e.rank >= best.rank) break;
        if (e.regex !== null) {
          const m = e.regex.exec(path);
          if (m === null || !otherMatchersPass(e, r)) continue;
          best = e;
          matched = m[0];
          captures = m.length > 1 ? m : null;
          break;
        }
        if (otherMatchersPass(e, r)) {
          best = e;
          matched = "";
          break;
        }
      }
      return best === null ? null : { value: best.value, matched, captures };
    },
  };
}
