// setForwardedHeaders guided by the snapshot of the received headers (routes without plugins) must leave
// exactly the headers the live-header path leaves (routes with plugins, and the rule as first written).
import { describe, expect, test } from "bun:test";
import {
  type ForwardedFacts,
  type ReceivedHeaders,
  setForwardedHeaders,
  snapshotSurvives,
} from "../../src/proxy/headers.ts";

const CLIENTS: Record<string, [string, string][]> = {
  "wrk (Host only)": [["host", "127.0.0.1:8000"]],
  browser: [
    ["host", "example.com"],
    ["connection", "keep-alive"],
    ["user-agent", "Mozilla/5.0"],
    ["accept", "text/html"],
    ["accept-encoding", "gzip, br"],
    ["cookie", "a=b"],
    ["upgrade-insecure-requests", "1"],
  ],
  "every hop-by-hop header": [
    ["host", "h"],
    ["keep-alive", "timeout=5"],
    ["proxy", "http://evil"],
    ["proxy-connection", "keep-alive"],
    ["proxy-authorization", "Basic x"],
    ["te", "trailers"],
    ["trailer", "x-t"],
    ["transfer-encoding", "chunked"],
    ["upgrade", "h2c"],
  ],
  "forwarded headers sent by the client": [
    ["host", "h"],
    ["x-forwarded-for", "10.0.0.1, 10.0.0.2"],
    ["x-forwarded-proto", "https"],
    ["x-forwarded-host", "front.example"],
    ["x-forwarded-port", "443"],
    ["x-forwarded-path", "/front"],
    ["x-forwarded-prefix", "/p"],
    ["via", "1.0 a"],
  ],
  "empty values": [
    ["host", "h"],
    ["x-forwarded-for", ""],
    ["via", ""],
    ["x-forwarded-prefix", ""],
  ],
  "Connection naming forwarded headers": [
    ["host", "h"],
    ["connection", "close, X-Forwarded-For, via, x-forwarded-proto,x-forwarded-prefix , Host, te, absent"],
    ["x-forwarded-for", "10.0.0.1"],
    ["x-forwarded-proto", "https"],
    ["x-forwarded-prefix", "/p"],
    ["via", "1.0 a"],
    ["te", "trailers"],
  ],
  "Connection naming a plain header": [
    ["host", "h"],
    ["connection", "upgrade, x-secret, keep-alive"],
    ["x-secret", "s"],
    ["upgrade", "websocket"],
  ],
  "repeated Set-Cookie (a list in the snapshot)": [
    ["host", "h"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
    ["connection", "set-cookie"],
  ],
};

function facts(trusted: boolean): ForwardedFacts {
  return {
    peer: { peerIp: "10.9.9.9", clientIp: trusted ? "1.2.3.4" : "10.9.9.9", trusted, scheme: "http" },
    host: "h",
    port: "8000",
    rawPath: "/a/b",
    requestId: "0123456789abcdef0123456789abcdef",
  };
}

function rewritten(
  init: [string, string][],
  guided: boolean,
  host: string | null,
  trusted: boolean,
  prefix: string,
): [string, string][] {
  const headers = new Request("http://h/", { headers: init }).headers;
  const received = guided ? (headers.toJSON() as ReceivedHeaders) : null;
  setForwardedHeaders(headers, host, facts(trusted), prefix, "1.1 portico/test", received);
  return [...headers.entries()];
}

describe("setForwardedHeaders with the received-headers snapshot", () => {
  for (const [client, init] of Object.entries(CLIENTS))
    for (const trusted of [false, true])
      for (const prefix of ["", "/strip"])
        for (const host of [null, "up:8080"])
          test(`${client}, ${trusted ? "trusted" : "untrusted"} peer, prefix "${prefix}", host ${host}`, () => {
            expect(rewritten(init, true, host, trusted, prefix)).toEqual(
              rewritten(init, false, host, trusted, prefix),
            );
          });

  test("the rule itself: hop-by-hop and Connection-named headers go, X-Forwarded-For and Via are appended to", () => {
    const out = new Headers(
      rewritten(
        CLIENTS["Connection naming a plain header"]!.concat([["via", "1.0 a"]]),
        true,
        null,
        false,
        "",
      ),
    );
    expect(out.has("x-secret")).toBe(false);
    expect(out.has("upgrade")).toBe(false);
    expect(out.has("connection")).toBe(false);
    expect(out.get("via")).toBe("1.0 a, 1.1 portico/test");
    expect(out.get("x-forwarded-for")).toBe("10.9.9.9");
  });
});

describe("snapshotSurvives: after which access hooks the snapshot still guides the rewrite", () => {
  test("edits of other headers (key-auth's, acl's) keep it; any header the rewrite reads, or unknown edits, do not", () => {
    expect(snapshotSurvives(new Set())).toBe(true);
    expect(
      snapshotSurvives(new Set(["x-consumer-id", "x-consumer-groups", "apikey", "content-length"])),
    ).toBe(true);
    for (const name of [
      "transfer-encoding",
      "te",
      "proxy",
      "connection",
      "via",
      "x-forwarded-for",
      "x-forwarded-prefix",
    ])
      expect({ name, survives: snapshotSurvives(new Set(["x-consumer-id", name])) }).toEqual({
        name,
        survives: false,
      });
    expect(snapshotSurvives(null)).toBe(false);
  });
});
