// Kong's `$(…)` value templates (request-transformer), evaluated without code: a template is compiled once,
// when the plugin's config is written, into literal text and lookups. An expression is one or more terms
// joined by `or` (the first that is present wins, as Lua's `or`): `headers.x` / `headers["x-y"]`,
// `query_params.x`, `uri_captures.name` / `uri_captures[1]`, or a quoted string. Anything else (calls,
// arithmetic, other globals) is refused with Kong's "not in supported format" message. Lookups only read
// the request's own names (Maps and own properties): `$(headers.__proto__)` or `$(constructor)` find nothing.

export type TemplateRoot = "headers" | "query_params" | "uri_captures";

type Term = { kind: "literal"; text: string } | { kind: "lookup"; root: TemplateRoot; key: string | number };

export type Template = readonly (string | readonly Term[])[];

/** What a template reads; each lookup answers a value or undefined (absent). */
export type TemplateEnv = {
  [R in TemplateRoot]: (key: string | number) => string | readonly string[] | true | undefined;
};

const ROOTS: ReadonlySet<string> = new Set<TemplateRoot>(["headers", "query_params", "uri_captures"]);

export class TemplateError extends Error {}

/** Compiles a template, or throws TemplateError saying what is not supported. */
export function compileTemplate(source: string): Template {
  const parts: (string | readonly Term[])[] = [];
  let text = "";
  let i = 0;
  while (i < source.length) {
    if (source[i] === "$" && source[i + 1] === "(") {
      const end = closingParen(source, i + 1);
      if (end < 0) throw new TemplateError(`unclosed '$(' at ${i + 1}`);
      if (text !== "") parts.push(text);
      text = "";
      parts.push(parseExpression(source.slice(i + 2, end)));
      i = end + 1;
    } else text += source[i++];
  }
  if (text !== "") parts.push(text);
  return parts;
}

/** Whether a value contains any `$(…)` (one without is used as it is, never compiled per request). */
export const hasExpression = (source: string) => source.includes("$(");

/** Index of the `)` that closes the `(` at `open`, skipping quoted strings; -1 when there is none. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '"' || c === "'") {
      i = endOfString(source, i);
      if (i < 0) return -1;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

/** Index of the quote that closes the string opened at `start`; -1 when it is not closed. */
function endOfString(source: string, start: number): number {
  const quote = source[start];
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === "\\") i++;
    else if (source[i] === quote) return i;
  }
  return -1;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const INTEGER = /^[0-9]+/;

function parseExpression(expression: string): Term[] {
  const terms: Term[] = [];
  let rest = expression.trim();
  const unsupported = () =>
    new TemplateError(
      `unsupported expression '${expression.trim()}': only headers, query_params and uri_captures lookups, quoted strings and 'or' are allowed`,
    );
  for (;;) {
    let term: Term;
    if (rest[0] === '"' || rest[0] === "'") {
      const end = endOfString(rest, 0);
      if (end < 0) throw unsupported();
      term = { kind: "literal", text: unescapeLua(rest.slice(1, end)) };
      rest = rest.slice(end + 1).trimStart();
    } else {
      const root = IDENT.exec(rest)?.[0];
      if (root === undefined || !ROOTS.has(root)) throw unsupported();
      rest = rest.slice(root.length).trimStart();
      let key: string | number;
      if (rest[0] === ".") {
        const name = IDENT.exec(rest.slice(1).trimStart())?.[0];
        if (name === undefined) throw unsupported();
        rest = rest.slice(1).trimStart().slice(name.length).trimStart();
        key = name;
      } else if (rest[0] === "[") {
        rest = rest.slice(1).trimStart();
        if (rest[0] === '"' || rest[0] === "'") {
          const end = endOfString(rest, 0);
          if (end < 0) throw unsupported();
          key = unescapeLua(rest.slice(1, end));
          rest = rest.slice(end + 1).trimStart();
        } else {
          const digits = INTEGER.exec(rest)?.[0];
          if (digits === undefined) throw unsupported();
          key = Number(digits);
          rest = rest.slice(digits.length).trimStart();
        }
        if (rest[0] !== "]") throw unsupported();
        rest = rest.slice(1).trimStart();
      } else throw unsupported();
      term = { kind: "lookup", root: root as TemplateRoot, key };
    }
    terms.push(term);
    if (rest === "") return terms;
    const or = /^or(?![A-Za-z0-9_])/.exec(rest);
    if (or === null) throw unsupported();
    rest = rest.slice(2).trimStart();
  }
}

/** Lua's short-string escapes that matter here: `\\`, `\"`, `\'`, `\n`, `\t`. */
function unescapeLua(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

/** Renders a compiled template; an absent value renders as "", several values joined by ", ". */
export function renderTemplate(template: Template, env: TemplateEnv): string {
  let out = "";
  for (const part of template) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    for (const term of part) {
      const value = term.kind === "literal" ? term.text : env[term.root](term.key);
      if (value === undefined) continue;
      out += value === true ? "true" : typeof value === "string" ? value : value.join(", ");
      break;
    }
  }
  return out;
}
