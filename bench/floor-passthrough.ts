// Bench target, not product code: Bun's floor. Bun.serve hands every request to fetch and returns fetch's
// Response as it is; no header rules, routing, timeouts or abort wiring. What any gateway on Bun pays first.
//
//   bun bench/floor-passthrough.ts <port> <upstream origin>
import process from "node:process";
import { forwardTo, pathOf } from "./floor-fetch.ts";

const [port, upstream] = process.argv.slice(2);
if (!port || !upstream) throw new Error("usage: floor-passthrough.ts <port> <upstream origin>");

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  idleTimeout: 0,
  fetch(request) {
    return forwardTo(upstream, pathOf(request.url), request);
  },
});
