// Bench target, not product code: Bun's floor with the large-response workaround (PLATFORM-NOTES, "The
// large-response cliff in Bun.serve"). As floor-passthrough.ts, except that an upstream response whose
// Content-Length is between 15,360 bytes and 1 MiB (not HEAD) is read whole and answered as a one-chunk
// stream, so Bun.serve writes its head in one send. No header rules, routing, timeouts or abort wiring: what
// a gateway on Bun pays at the medium sizes before doing anything of its own. The best form of it measured
// (bench/README.md, Nov 30 14:40–15:35): Bun's direct stream, the buffer released as soon as Bun.serve's
// response has copied it (as src/proxy/relay.ts does), the body read in the handler's own frame — 7–8 %
// less CPU than a standard stream read in a second async function at 16 / 64 KiB (10 paired rounds).
//
//   bun bench/floor-onechunk.ts <port> <upstream origin>
//
// bench/js-cost.ts imports `floorOneChunkHandler` to compare its JavaScript with Portico's in-process.
import process from "node:process";
import { forwardTo, pathOf } from "./floor-fetch.ts";

function oneChunk(response: Response, bytes: Uint8Array<ArrayBuffer>): Response {
  const headers = response.headers;
  headers.delete("content-length");
  const source: Bun.DirectUnderlyingSource<Uint8Array> = {
    type: "direct",
    pull(controller) {
      controller.write(bytes);
      controller.end();
      // Bun.serve's response has copied it; a JavaScript reader (js-cost.ts) may still hold the chunk.
      if (Object.prototype.toString.call(controller) === "[object ReadableHTTPResponseSinkController]")
        bytes.buffer.transfer(0);
    },
  };
  const body = new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>);
  return new Response(body, { status: response.status, headers });
}

/** The floor's request handler for one upstream. */
export function floorOneChunkHandler(upstream: string) {
  return async function handle(request: Request): Promise<Response> {
    const response = await forwardTo(upstream, pathOf(request.url), request);
    if (request.method === "HEAD") return response;
    const length = Number(response.headers.get("content-length") ?? -1);
    // Read in this frame (a second async function costs a promise and a turn of the microtask queue).
    return length >= 15_360 && length <= 1024 * 1024 ? oneChunk(response, await response.bytes()) : response;
  };
}

if (import.meta.main) {
  const [port, upstream] = process.argv.slice(2);
  if (!port || !upstream) throw new Error("usage: floor-onechunk.ts <port> <upstream origin>");
  Bun.serve({
    hostname: "127.0.0.1",
    port: Number(port),
    idleTimeout: 0,
    fetch: floorOneChunkHandler(upstream),
  });
}
