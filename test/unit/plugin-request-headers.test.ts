// What an access hook reads of the request headers (PluginContext.requestHeader) and whether an upstream
// header may be there (upstreamHeaderMayBePresent): from the headers as received while no earlier hook may have
// edited the name, from the live headers otherwise — and in every case what the live headers would say.
import { describe, expect, test } from "bun:test";
import type { PluginChain } from "../../src/plugins/chain.ts";
import { CredentialIndex } from "../../src/plugins/credential-index.ts";
import type { ReceivedHeaders } from "../../src/proxy/headers.ts";
import { ProxyPluginContext, type RequestState } from "../../src/proxy/plugin-context.ts";

function context(init: HeadersInit): ProxyPluginContext {
  const request = new Request("http://gateway.test/x", { headers: init });
  const received = request.headers.toJSON() as ReceivedHeaders;
  const state = { request, received, streamLimit: null } as unknown as RequestState;
  return new ProxyPluginContext(state, {} as PluginChain, request.headers, CredentialIndex.EMPTY, null);
}

const CLIENT: [string, string][] = [
  ["ApiKey", "k1"],
  ["x-twice", "a"],
  ["x-twice", "b"],
  ["cookie", "c=1"],
  ["set-cookie", "s=1"],
  ["set-cookie", "s=2"],
  ["x-empty", ""],
];

describe("requestHeader", () => {
  test("as received, the same as Headers.get, whatever the case of the name", () => {
    const ctx = context(CLIENT);
    ctx.editedEarlier = new Set();
    for (const name of ["apikey", "APIKEY", "x-twice", "cookie", "set-cookie", "x-empty", "x-absent"])
      expect(ctx.requestHeader(name)).toBe(ctx.request.headers.get(name));
    expect(ctx.requestHeader("ApiKey")).toBe("k1");
    expect(ctx.requestHeader("x-twice")).toBe("a, b");
    expect(ctx.requestHeader("x-absent")).toBeNull();
  });

  test("a name an earlier hook may have edited, or any name when that is not known, is read live", () => {
    const ctx = context(CLIENT);
    ctx.upstreamHeaders.set("apikey", "edited");
    ctx.upstreamHeaders.set("x-added", "1");
    ctx.editedEarlier = new Set(["apikey", "x-added"]);
    expect(ctx.requestHeader("ApiKey")).toBe("edited");
    expect(ctx.requestHeader("x-added")).toBe("1");
    ctx.editedEarlier = null;
    expect(ctx.requestHeader("x-added")).toBe("1");
    // Outside the access phase the context knows nothing: live, never the stale snapshot.
    ctx.upstreamHeaders.delete("x-twice");
    expect(ctx.requestHeader("x-twice")).toBeNull();
  });
});

describe("upstreamHeaderMayBePresent", () => {
  test("false only for a name neither received nor declared by an earlier hook", () => {
    const ctx = context(CLIENT);
    ctx.editedEarlier = new Set(["x-consumer-id"]);
    expect(ctx.upstreamHeaderMayBePresent("x-anonymous-consumer")).toBe(false);
    expect(ctx.upstreamHeaderMayBePresent("x-consumer-id")).toBe(true);
    expect(ctx.upstreamHeaderMayBePresent("x-twice")).toBe(true);
    expect(ctx.upstreamHeaderMayBePresent("x-empty")).toBe(true);
    ctx.editedEarlier = null;
    expect(ctx.upstreamHeaderMayBePresent("x-anonymous-consumer")).toBe(true);
  });
});
