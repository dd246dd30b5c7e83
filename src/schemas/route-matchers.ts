// Route matchers in Kong's dialect, compiled by the one function the router and the schema both use: what
// the admin API accepts, the router can build (a regex the schema let through must never freeze the proxy).
//   paths:   `~<regex>`, anchored at the start; Kong's (PCRE) named groups `(?P<name>…)` are accepted
//   headers: `~*<regex>`, matched case-insensitively against the header's value
//
// JavaScript's engine backtracks: `~/(a+)+$` against `/aaaa…a!` takes seconds per request and freezes a
// proxy worker. Kong's router (Rust's regex crate) matches in linear time. A pattern that could backtrack
// badly therefore runs on RE2 (re2js, linear time, same semantics for what routes use); the simple ones
// (at most one level of repetition, few repeats) keep the native engine, which is several times faster.
// re2js is 250 KB of JavaScript (Unicode tables, classes) that every start would evaluate; only a risky
// pattern needs it, so it is required on first use: in the compiled bundle `require` runs the module's
// initialiser then, synchronously (an `import()` would make compiling a route asynchronous).
import type { RE2JS } from "re2js";

let re2: typeof RE2JS | undefined;
function re2js(): typeof RE2JS {
  re2 ??= (require("re2js") as typeof import("re2js")).RE2JS;
  return re2;
}

/** RE2JS.CASE_INSENSITIVE (re2js's flag value), without loading re2js to read it. */
const CASE_INSENSITIVE = 1;

/** What the router needs of a compiled matcher: RegExp itself, or the linear-time stand-in. */
export type RouteRegex = {
  exec(input: string): RegExpExecArray | null;
  test(input: string): boolean;
};

/** A route path regex (without its `~`), anchored at the start as Kong anchors it. */
export function compilePathRegex(pattern: string): RouteRegex {
  const source = `^(?:${pattern.replaceAll("(?P<", "(?<")})`;
  const native = new RegExp(source);
  return backtracksBadly(pattern, 2) ? (linear(source, 0) ?? native) : native;
}

/** A header value regex (without its `~*`). Unanchored: every start is tried, so one repeat is the limit. */
export function compileHeaderRegex(pattern: string): RouteRegex {
  const source = pattern.replaceAll("(?P<", "(?<");
  const native = new RegExp(source, "i");
  return backtracksBadly(pattern, 1) ? (linear(source, CASE_INSENSITIVE) ?? native) : native;
}

/** Why `compile(pattern)` fails, or null when it compiles. */
export function regexError(compile: (pattern: string) => RouteRegex, pattern: string): string | null {
  try {
    compile(pattern);
    return null;
  } catch (error) {
    return `invalid regex: '${pattern}' (${(error as Error).message})`;
  }
}

/**
 * Conservative: true unless the pattern has no repeated group that itself repeats or alternates (star
 * height ≤ 1) and at most `maxRepeats` unbounded repeats (`*`, `+`, `{n,}`, `{n,m}`) — then the native
 * engine's backtracking stays polynomial of a low degree over a request path (≤ 8 KiB).
 */
export function backtracksBadly(pattern: string, maxRepeats: number): boolean {
  // Per open group: does it contain a repeat or an alternation?
  const groups: boolean[] = [false];
  let repeats = 0;
  // The atom a quantifier would apply to: a group that repeats inside, or anything else.
  let lastAtomRepeats = false;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "\\") {
      i += 2;
      lastAtomRepeats = false;
      continue;
    }
    if (c === "[") {
      i++;
      if (pattern[i] === "^") i++;
      if (pattern[i] === "]") i++;
      while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
      i++;
      lastAtomRepeats = false;
      continue;
    }
    if (c === "(") {
      groups.push(false);
      i++;
      // `(?:`, `(?<name>`, `(?P<name>`, `(?=` …: the `?` opens the group, it repeats nothing.
      if (pattern[i] === "?") {
        i++;
        if (pattern[i] === "P") i++;
        if (pattern[i] === "<" && pattern[i + 1] !== "=" && pattern[i + 1] !== "!") {
          while (i < pattern.length && pattern[i] !== ">") i++;
        }
        i++;
      }
      continue;
    }
    if (c === ")") {
      lastAtomRepeats = groups.pop() ?? false;
      if (groups.length === 0) groups.push(false);
      if (lastAtomRepeats) groups[groups.length - 1] = true;
      i++;
      continue;
    }
    if (c === "|") {
      groups[groups.length - 1] = true;
      i++;
      continue;
    }
    const quantifier = /^(?:[*+]|\{\d*,\d*\}|\{\d+\})/.exec(pattern.slice(i, i + 24));
    if (quantifier !== null) {
      const text = quantifier[0];
      const bounded = /^\{(\d+)\}$/.test(text) || /^\{\d*,(0|1)\}$/.test(text);
      if (!bounded) {
        if (lastAtomRepeats) return true;
        repeats++;
        groups[groups.length - 1] = true;
      }
      i += text.length;
      if (pattern[i] === "?" || pattern[i] === "+") i++;
      lastAtomRepeats = false;
      continue;
    }
    // `?` after an atom: zero or one, no repetition.
    lastAtomRepeats = false;
    i++;
  }
  return repeats > maxRepeats;
}

/** The pattern on RE2, shaped like RegExp's answers; null when RE2 cannot express it (look-arounds …). */
function linear(source: string, flags: number): RouteRegex | null {
  let re: RE2JS;
  try {
    re = re2js().compile(source, flags);
  } catch {
    return null;
  }
  const names = Object.entries(re.namedGroups() as Record<string, number>);
  return {
    exec(input) {
      const m = re.matcher(input);
      if (!m.find()) return null;
      const count = m.groupCount();
      const found: (string | undefined)[] = [];
      for (let g = 0; g <= count; g++) found.push(m.group(g) ?? undefined);
      let groups: Record<string, string | undefined> | undefined;
      if (names.length > 0) {
        groups = Object.create(null) as Record<string, string | undefined>;
        for (const [name, index] of names) groups[name] = found[index];
      }
      return Object.assign(found, { index: m.start(), input, groups }) as unknown as RegExpExecArray;
    },
    test(input) {
      return re.matcher(input).find();
    },
  };
}
