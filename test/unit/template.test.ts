// The value templates of request-transformer: what compiles, what is refused (no code, no globals), how
// lookups and `or` render, and that prototype names are never found.
import { describe, expect, test } from "bun:test";
import {
  compileTemplate,
  renderTemplate,
  type TemplateEnv,
  TemplateError,
} from "../../src/plugins/template.ts";

const headers = new Headers({ "x-user": "ann", "x-multi": "a, b", host: "example.test" });
const query: Record<string, string | string[] | true> = Object.assign(Object.create(null), {
  q: "1",
  list: ["a", "b"],
  flag: true,
});
const captures = Object.assign(["/users/42", "42"], {
  groups: Object.assign(Object.create(null), { id: "42" }),
});

const env: TemplateEnv = {
  headers: (key) => (typeof key === "string" ? (headers.get(key) ?? undefined) : undefined),
  query_params: (key) => (Object.hasOwn(query, String(key)) ? query[String(key)] : undefined),
  uri_captures: (key) =>
    typeof key === "number"
      ? captures[key]
      : Object.hasOwn(captures.groups, key)
        ? captures.groups[key]
        : undefined,
};

const render = (source: string) => renderTemplate(compileTemplate(source), env);

describe("template rendering", () => {
  test("plain text, dotted and bracketed lookups", () => {
    expect(render("plain")).toBe("plain");
    expect(render("$(headers.x_user)")).toBe("");
    expect(render("$(headers['x-user'])")).toBe("ann");
    expect(render('v=$(headers["X-User"]);q=$(query_params.q)')).toBe("v=ann;q=1");
    expect(render("$(uri_captures.id)/$(uri_captures[0])/$(uri_captures[1])")).toBe("42//users/42/42");
    expect(render("$( query_params . q )")).toBe("1");
  });

  test("values that are lists or flags", () => {
    expect(render("$(query_params.list)")).toBe("a, b");
    expect(render("$(query_params.flag)")).toBe("true");
    expect(render("$(headers['x-multi'])")).toBe("a, b");
  });

  test("absent values render empty; `or` takes the first present term", () => {
    expect(render("[$(headers.missing)]")).toBe("[]");
    expect(render("$(uri_captures.user or 'default1')")).toBe("default1");
    expect(render(`$(uri_captures["user-id"] or query_params.q or "unknown")`)).toBe("1");
    expect(render("$(uri_captures[7] or headers.nope or 'x\\'y')")).toBe("x'y");
    expect(render("$(query_params.q or 'never')")).toBe("1");
  });

  test("a quoted string escapes a template (Kong's $('$(…)'))", () => {
    expect(render("$('$(uri_captures.user1)')")).toBe("$(uri_captures.user1)");
    expect(render("a $ b (c)")).toBe("a $ b (c)");
  });

  test("prototype and global names find nothing", () => {
    for (const source of [
      "$(headers.__proto__)",
      "$(headers.constructor)",
      "$(query_params.__proto__)",
      "$(query_params.constructor)",
      "$(query_params.toString)",
      "$(uri_captures.__proto__)",
      "$(uri_captures.constructor)",
      "$(uri_captures['hasOwnProperty'])",
    ])
      expect({ source, out: render(source) }).toEqual({ source, out: "" });
  });

  test("code, globals and other expressions are refused when compiled", () => {
    for (const source of [
      "$(constructor)",
      "$(ERROR())",
      "$(10 * uri_captures.user1)",
      "$(foo(headers['x']))",
      "$(headers)",
      "$(headers.x.y)",
      "$(headers.x .. 'y')",
      "$(shared.my_version)",
      "$(process.env.HOME)",
      "$(globalThis)",
      "$(headers[x])",
      "$(headers['x')",
      "$(headers.x or)",
      "$(headers.x and 'y')",
      "$(require('os'))",
      "$(headers.x",
      "$()",
      "$('unclosed)",
    ])
      expect({
        source,
        error: (() => {
          try {
            compileTemplate(source);
            return null;
          } catch (e) {
            return e instanceof TemplateError;
          }
        })(),
      }).toEqual({ source, error: true });
  });
});
