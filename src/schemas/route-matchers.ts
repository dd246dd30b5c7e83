// Route matchers in Kong's dialect, compiled by the one function the router and the schema both use: what
// the admin API accepts, the router can build (a regex the schema let through must never freeze the proxy).
//   paths:   `~<regex>`, anchored at the start; Kong's (PCRE) named groups `(?P<name>…)` are accepted
//   headers: `~*<regex>`, matched case-insensitively against the header's value

/** A route path regex (without its `~`), anchored at the start as Kong anchors it. */
export function compilePathRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern.replaceAll("(?P<", "(?<")})`);
}

/** A header value regex (without its `~*`). */
export function compileHeaderRegex(pattern: string): RegExp {
  return new RegExp(pattern.replaceAll("(?P<", "(?<"), "i");
}

/** Why `compile(pattern)` fails, or null when it compiles. */
export function regexError(compile: (pattern: string) => RegExp, pattern: string): string | null {
  try {
    compile(pattern);
    return null;
  } catch (error) {
    return `invalid regex: '${pattern}' (${(error as Error).message})`;
  }
}
