// Bench target, not product code: Bun's floor plus the header work a gateway owes the upstream and the
// client, written as plainly as possible. Hop-by-hop headers (and those named in Connection) are removed both
// ways, Host becomes the upstream's, and X-Real-IP, X-Forwarded-For/-Proto/-Host/-Port/-Path and Via are
// set. No routing, path normalisation, timeouts, client-abort wiring, request ids or latency headers: the
// distance from here to Portico is what those cost.
//
//   bun bench/floor-headers.ts <port> <upstream origin>
//
// bench/js-cost.ts imports `floorHeadersHandler` to compare its JavaScript with Portico's in-process.
import process from "node:process";
import type { Server } from "bun";
import { forwardTo } from "./floor-fetch.ts";

const VIA = "1.1 floor";
const HOP_BY_HOP = ["keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];
const REQUEST_ONLY = ["proxy-authorization", "proxy"];

function dropHopByHop(headers: Headers, extra: string[]): void {
  const connection = headers.get("connection");
  if (connection !== null) {
    headers.delete("connection");
    for (const token of connection.split(",")) headers.delete(token.trim());
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
  for (const name of extra) headers.delete(name);
}

function appendTo(headers: Headers, name: string, value: string): void {
  const current = headers.get(name);
  headers.set(name, current === null ? value : `${current}, ${value}`);
}

/** The floor's request handler for one upstream, on a listener of port `port`. */
export function floorHeadersHandler(port: string, upstream: string) {
  const upstreamHost = new URL(upstream).host;
  return async function handle(request: Request, server: Pick<Server<unknown>, "requestIP">) {
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    const headers = request.headers;
    const host = headers.get("host") ?? "";
    const clientIp = server.requestIP(request)?.address ?? "";
    dropHopByHop(headers, REQUEST_ONLY);
    headers.set("host", upstreamHost);
    appendTo(headers, "x-forwarded-for", clientIp);
    headers.set("x-real-ip", clientIp);
    headers.set("x-forwarded-proto", "http");
    headers.set("x-forwarded-host", host.split(":")[0]!);
    headers.set("x-forwarded-port", port);
    headers.set("x-forwarded-path", url.slice(pathStart, queryStart < 0 ? undefined : queryStart));
    appendTo(headers, "via", VIA);
    const response = await forwardTo(upstream, url.slice(pathStart), request, headers);
    dropHopByHop(response.headers, ["proxy-authenticate"]);
    appendTo(response.headers, "via", VIA);
    return response;
  };
}

if (import.meta.main) {
  const [port, upstream] = process.argv.slice(2);
  if (!port || !upstream) throw new Error("usage: floor-headers.ts <port> <upstream origin>");
  Bun.serve({
    hostname: "127.0.0.1",
    port: Number(port),
    idleTimeout: 0,
    fetch: floorHeadersHandler(port, upstream),
  });
}
