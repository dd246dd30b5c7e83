// request-transformer's pure operations: entry splitting, Kong's order within a part, JSON / form / multipart
// bodies and query arguments, Host handling, append's list rules.
import { describe, expect, test } from "bun:test";
import { encodeArgs, parseQuery } from "../../src/plugins/kong-request.ts";
import { splitEntry } from "../../src/plugins/request-transformer/entries.ts";
import {
  appendValue,
  type Operations,
  transformArgs,
  transformHeaders,
  transformJsonBody,
  transformMultipart,
} from "../../src/plugins/request-transformer/transform.ts";

const none: Operations = { remove: [], rename: [], replace: [], add: [], append: [] };
const ops = (o: Partial<Operations>): Operations => ({ ...none, ...o });
const e = (name: string, value: string | null = null) => ({ name, value });

describe("entries", () => {
  test("split at the first colon, further colons skipped", () => {
    expect(splitEntry("a:b")).toEqual({ name: "a", value: "b" });
    expect(splitEntry("a::b:c")).toEqual({ name: "a", value: "b:c" });
    expect(splitEntry("a")).toEqual({ name: "a", value: "" });
    expect(splitEntry("a:")).toEqual({ name: "a", value: "" });
    expect(splitEntry("x:$(headers.y)")).toEqual({ name: "x", value: "$(headers.y)" });
  });

  test("append_value", () => {
    expect(appendValue(undefined, "v")).toEqual(["v"]);
    expect(appendValue("a", "v")).toEqual(["a", "v"]);
    expect(appendValue(["a", "b"], "v")).toEqual(["a", "b", "v"]);
    expect(appendValue(5, "v")).toEqual(["v"]);
  });
});

describe("headers", () => {
  test("remove → rename → replace → add → append; Host only through setHost", () => {
    const h = new Headers({ host: "client.test", a: "1", b: "2", c: "3", d: "4" });
    const hosts: string[] = [];
    transformHeaders(
      h,
      ops({
        remove: ["a", "host"],
        rename: [e("b", "b2"), e("missing", "m2"), e("host", "h2")],
        replace: [e("c", "30"), e("nope", "x"), e("host", "upstream.test")],
        add: [e("c", "never"), e("new", "n"), e("host", "no")],
        append: [e("d", "5"), e("fresh", "f")],
      }),
      (host) => hosts.push(host),
    );
    expect(Object.fromEntries(h)).toEqual({
      host: "client.test",
      b2: "2",
      c: "30",
      d: "4, 5",
      new: "n",
      fresh: "f",
    });
    expect(hosts).toEqual(["upstream.test"]);
  });

  test("entries without a value change nothing; a case-only rename is a no-op", () => {
    const h = new Headers({ a: "1" });
    transformHeaders(
      h,
      ops({ replace: [e("a")], add: [e("b")], append: [e("a")], rename: [e("a", "A")] }),
      () => {},
    );
    expect(Object.fromEntries(h)).toEqual({ a: "1" });
  });
});

describe("query arguments and form bodies", () => {
  test("Kong's order; add only when absent; append makes lists; sorted encoding", () => {
    const { args, changed } = transformArgs(
      parseQuery("z=1&a=2&r=old&flag&keep=k"),
      ops({
        remove: ["z"],
        rename: [e("r", "renamed")],
        replace: [e("a", "20"), e("absent", "x")],
        add: [e("keep", "no"), e("added", "yes")],
        append: [e("keep", "k2"), e("new", "n")],
      }),
      { present: true },
    );
    expect(changed).toBe(true);
    expect(encodeArgs(args, true)).toBe("a=20&added=yes&flag&keep=k&keep=k2&new=n&renamed=old");
  });

  test("an empty form body: only add and append act", () => {
    const { args, changed } = transformArgs(
      parseQuery(""),
      ops({ remove: ["a"], replace: [e("a", "1")], add: [e("b", "2")] }),
      { present: false },
    );
    expect({ args: { ...args }, changed }).toEqual({ args: { b: "2" }, changed: true });
    expect(transformArgs(parseQuery(""), ops({ remove: ["a"] }), { present: false }).changed).toBe(false);
  });

  test("names are data: __proto__ and constructor are ordinary arguments", () => {
    const { args } = transformArgs(
      parseQuery("__proto__=p&constructor=c"),
      ops({ rename: [e("__proto__", "proto")], replace: [e("constructor", "C")], add: [e("toString", "t")] }),
      { present: true },
    );
    expect(encodeArgs(args, true)).toBe("constructor=C&proto=p&toString=t");
    expect(({} as Record<string, unknown>).proto).toBeUndefined();
  });

  test("encoding escapes as ngx.escape_uri; form bodies keep their order", () => {
    expect(encodeArgs(Object.assign(Object.create(null), { "b[x]": "a b&c", a: "é!" }), true)).toBe(
      "a=%C3%A9%21&b%5Bx%5D=a%20b%26c",
    );
    expect(encodeArgs(parseQuery("b=1&a=2"), false)).toBe("b=1&a=2");
  });
});

describe("JSON bodies", () => {
  test("Kong's order and truthiness rules", () => {
    const body = JSON.stringify({ rm: 1, old: "v", rep: "x", f: false, n: null, keep: 1, list: ["a"] });
    const out = transformJsonBody(
      body,
      ops({
        remove: ["rm"],
        rename: [e("old", "new")],
        replace: [e("rep", "y"), e("f", "never"), e("n", "was null")],
        add: [e("keep", "no"), e("f", "now"), e("added", "a")],
        append: [e("list", "b"), e("new", "w"), e("fresh", "z")],
      }),
    );
    expect(JSON.parse(out!)).toEqual({
      new: ["v", "w"],
      rep: "y",
      f: "now",
      n: "was null",
      keep: 1,
      list: ["a", "b"],
      added: "a",
      fresh: ["z"],
    });
  });

  test("empty, malformed and non-object bodies", () => {
    expect(JSON.parse(transformJsonBody("", ops({ add: [e("a", "1")], remove: ["b"] }))!)).toEqual({
      a: "1",
    });
    expect(transformJsonBody("", ops({ remove: ["b"] }))).toBeNull();
    expect(transformJsonBody("{broken", ops({ add: [e("a", "1")] }))).toBeNull();
    expect(transformJsonBody("[1,2]", ops({ add: [e("a", "1")] }))).toBeNull();
    expect(transformJsonBody('{"emptyarray":[]}', ops({ add: [e("a", "1")] }))).toBe(
      '{"emptyarray":[],"a":"1"}',
    );
  });

  test("a __proto__ key stays data and pollutes nothing", () => {
    const out = transformJsonBody(
      '{"__proto__":{"polluted":true},"a":1}',
      ops({ rename: [e("__proto__", "p")] }),
    );
    expect(JSON.parse(out!)).toEqual({ a: 1, p: { polluted: true } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("multipart bodies", () => {
  test("rename → remove → replace → add; files kept", async () => {
    const form = new FormData();
    form.append("old", "v");
    form.append("rm", "x");
    form.append("rep", "1");
    form.append("file", new Blob(["content"], { type: "text/plain" }), "a.txt");
    const changed = transformMultipart(
      form,
      ops({
        rename: [e("old", "new")],
        remove: ["rm"],
        replace: [e("rep", "2"), e("absent", "x")],
        add: [e("rep", "never"), e("added", "yes")],
        append: [e("ignored", "kong has no multipart append")],
      }),
      true,
    );
    expect(changed).toBe(true);
    expect([...form.keys()].sort()).toEqual(["added", "file", "new", "rep"]);
    expect(form.get("rep")).toBe("2");
    const file = form.get("file") as File;
    expect({ name: file.name, type: file.type, text: await file.text() }).toEqual({
      name: "a.txt",
      type: "text/plain;charset=utf-8",
      text: "content",
    });
  });
});
