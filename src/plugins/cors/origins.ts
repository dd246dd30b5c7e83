// Which Access-Control-Allow-Origin a cors configuration gives a request origin (kong/plugins/cors/handler.lua,
// configure_origin), compiled once per configuration: no origins or only `*` allow all; one plain origin is
// sent as configured; otherwise each entry is a plain origin compared after normalisation, or a regex
// (anchored at the start, `$` appended) matched against the request's host — or its whole origin when the
// entry contains a `:` — and a match echoes the request's normalised origin.

/** What the configuration decides for one request origin. */
export type OriginVerdict =
  | { kind: "any" }
  | { kind: "literal"; origin: string }
  | { kind: "echo"; origin: string }
  | { kind: "none" };

type Rule = { regex: RegExp; byHost: boolean } | { domain: string };

/** Characters of a plain origin; anything else makes an entry a regex (as Kong decides). */
const PLAIN = /^[A-Za-z0-9.:/-]+$/;

/** Kong's normalize_origin: `scheme://host[:port]` without a default port; a value without a host as is. */
export function normalizeOrigin(value: string): { domain: string; host: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?/.exec(value);
  if (m === null || m[2] === "") return { domain: value, host: value };
  const scheme = m[1]!;
  const host = m[2]!;
  let port = m[3] || null;
  if ((scheme === "http" && port === "80") || (scheme === "https" && port === "443")) port = null;
  return { domain: `${scheme}://${host}${port ? `:${port}` : ""}`, host };
}

export type OriginPolicy = {
  /** False when every origin is allowed (`*`): responses then do not vary by Origin. */
  readonly varies: boolean;
  /** The verdict depends on the request's origin (false: every origin gets the same answer). */
  readonly readsOrigin: boolean;
  decide(requestOrigin: string | null): OriginVerdict;
};

export function compileOrigins(origins: readonly string[] | null): OriginPolicy {
  if (origins === null || origins.length === 0 || (origins.length === 1 && origins[0] === "*"))
    return { varies: false, readsOrigin: false, decide: () => ({ kind: "any" }) };
  if (origins.length === 1 && PLAIN.test(origins[0]!)) {
    const literal: OriginVerdict = { kind: "literal", origin: origins[0]! };
    return { varies: true, readsOrigin: false, decide: () => literal };
  }
  // Kong stops at a `*` among several entries, before comparing anything: any origin is then allowed.
  if (origins.includes("*"))
    return {
      varies: true,
      readsOrigin: true,
      decide: (requestOrigin) => (requestOrigin ? { kind: "any" } : { kind: "none" }),
    };
  const rules: Rule[] = origins.map((entry) => {
    if (PLAIN.test(entry)) return { domain: normalizeOrigin(entry).domain };
    let pattern = entry.endsWith("$") ? entry : `${entry}$`;
    if (pattern.startsWith("^")) pattern = pattern.slice(1);
    return { regex: new RegExp(`^(?:${pattern})`), byHost: !entry.includes(":") };
  });
  return {
    varies: true,
    readsOrigin: true,
    decide(requestOrigin) {
      if (requestOrigin === null || requestOrigin === "") return { kind: "none" };
      const normalized = normalizeOrigin(requestOrigin);
      for (const rule of rules) {
        const found =
          "domain" in rule
            ? rule.domain === normalized.domain
            : rule.regex.test(rule.byHost ? normalized.host : normalized.domain);
        if (found) return { kind: "echo", origin: normalized.domain };
      }
      return { kind: "none" };
    },
  };
}
