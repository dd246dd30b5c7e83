// The headers plugins set for the response that goes out (PluginContext.setResponseHeader and
// setResponseHeaders): applied in the order they were set, a later value replacing an earlier one, and a list
// handed over at once behaving exactly as the same headers set one by one.
import { describe, expect, test } from "bun:test";
import type { PluginChain } from "../../src/plugins/chain.ts";
import { CredentialIndex } from "../../src/plugins/credential-index.ts";
import { ProxyPluginContext, type RequestState } from "../../src/proxy/plugin-context.ts";

function context(): ProxyPluginContext {
  const request = new Request("http://gateway.test/x");
  const state = { request, streamLimit: null } as unknown as RequestState;
  return new ProxyPluginContext(state, {} as PluginChain, request.headers, CredentialIndex.EMPTY, null);
}

const applied = (ctx: ProxyPluginContext, initial: Record<string, string> = {}) => {
  const headers = new Headers(initial);
  ctx.applyResponseHeaders(headers);
  return [...headers];
};

describe("plugins' response headers", () => {
  test("none set: the response is left alone", () => {
    expect(applied(context(), { server: "nginx" })).toEqual([["server", "nginx"]]);
  });

  test("a list handed over at once is applied as the same headers set one by one", () => {
    const one = context();
    one.setResponseHeader("X-RateLimit-Limit-Second", "5");
    one.setResponseHeader("X-RateLimit-Remaining-Second", "4");
    one.setResponseHeader("RateLimit-Reset", "1");
    const list = context();
    list.setResponseHeaders([
      "X-RateLimit-Limit-Second",
      "5",
      "X-RateLimit-Remaining-Second",
      "4",
      "RateLimit-Reset",
      "1",
    ]);
    expect(applied(list)).toEqual(applied(one));
    expect(applied(list)).toEqual([
      ["ratelimit-reset", "1"],
      ["x-ratelimit-limit-second", "5"],
      ["x-ratelimit-remaining-second", "4"],
    ]);
  });

  test("lists and single headers mix in order; a later value replaces an earlier one and the upstream's", () => {
    const ctx = context();
    ctx.setResponseHeader("X-Cache-Status", "Miss");
    ctx.setResponseHeaders(["RateLimit-Limit", "5", "RateLimit-Remaining", "0"]);
    ctx.setResponseHeader("Retry-After", "1");
    ctx.setResponseHeaders(["X-Cache-Status", "Bypass"]);
    expect(applied(ctx, { "ratelimit-limit": "100", server: "nginx" })).toEqual([
      ["ratelimit-limit", "5"],
      ["ratelimit-remaining", "0"],
      ["retry-after", "1"],
      ["server", "nginx"],
      ["x-cache-status", "Bypass"],
    ]);
  });

  test("the first list is kept as handed over, later headers are added after it", () => {
    const ctx = context();
    const list = ["RateLimit-Limit", "5"];
    ctx.setResponseHeaders(list);
    ctx.setResponseHeader("Retry-After", "1");
    expect(ctx.responseHeaders).toBe(list);
    expect(ctx.responseHeaders).toEqual(["RateLimit-Limit", "5", "Retry-After", "1"]);
  });
});
