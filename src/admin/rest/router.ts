// A small method-aware path router for the admin API: `:param` segments are percent-decoded; a known path
// with an unrouted method is 405, an unknown path 404; OPTIONS and HEAD are derived like Kong's.
export type Params = Record<string, string>;
export type Handler = (request: Request, params: Params, url: URL) => Promise<Response> | Response;
export type MethodTable = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", Handler>>;

type Entry = { segments: string[]; methods: MethodTable };

export type Match =
  | { kind: "handler"; handler: Handler; params: Params; head: boolean }
  | { kind: "options"; allow: string }
  | { kind: "method-not-allowed"; allow: string }
  | { kind: "not-found" };

export class AdminRouter {
  readonly #entries: Entry[] = [];

  /** Registers handlers; a pattern added twice gains the new methods (e.g. the seed's PATCH /services). */
  add(pattern: string, methods: MethodTable): this {
    const segments = pattern.split("/").filter(Boolean);
    const existing = this.#entries.find((e) => e.segments.join("/") === segments.join("/"));
    if (existing) Object.assign(existing.methods, methods);
    else this.#entries.push({ segments, methods });
    return this;
  }

  match(method: string, pathname: string): Match {
    const segments = pathname.split("/").filter(Boolean);
    // The most specific pattern wins: a static segment beats a parameter ("/plugins/enabled" is not the
    // plugin named "enabled"), whatever order the patterns were added in.
    let best: { entry: Entry; params: Params } | null = null;
    for (const entry of this.#entries) {
      const params = matchSegments(entry.segments, segments);
      if (params && (best === null || moreSpecific(entry.segments, best.entry.segments)))
        best = { entry, params };
    }
    if (best !== null) {
      const { entry, params } = best;
      const allowed = Object.keys(entry.methods);
      if (allowed.includes("GET")) allowed.push("HEAD");
      allowed.push("OPTIONS");
      const allow = allowed.sort().join(", ");
      if (method === "OPTIONS") return { kind: "options", allow };
      const head = method === "HEAD";
      const handler = entry.methods[(head ? "GET" : method) as keyof MethodTable];
      if (!handler) return { kind: "method-not-allowed", allow };
      return { kind: "handler", handler, params, head };
    }
    return { kind: "not-found" };
  }
}

/** True when `a` has a static segment where `b` first has a parameter. */
function moreSpecific(a: string[], b: string[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const aStatic = !a[i]!.startsWith(":");
    const bStatic = !b[i]!.startsWith(":");
    if (aStatic !== bStatic) return aStatic;
  }
  return false;
}

function matchSegments(pattern: string[], actual: string[]): Params | null {
  if (pattern.length !== actual.length) return null;
  const params: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const segment = actual[i]!;
    if (expected.startsWith(":")) params[expected.slice(1)] = decodeSegment(segment);
    else if (expected !== segment) return null;
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is kept as written; the key validation then rejects it with a clear 400.
    return segment;
  }
}
