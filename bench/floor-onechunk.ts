// Bench target, not product code: Bun's floor with the large-response workaround (PLATFORM-NOTES, "The
// large-response cliff in Bun.serve"). As floor-passthrough.ts, except that an upstream response whose
// Content-Length is between 15,360 bytes and 1 MiB (not HEAD) is read whole and answered as a one-chunk
// stream, so Bun.serve writes its head in one send. No header rules, routing, timeouts or abort wiring: what
// a gateway on Bun pays at the medium sizes before doing anything of its own.
//
//   bun bench/floor-onechunk.ts <port> <upstream origin>
//
// bench/js-cost.ts imports `floorOneChunkHandler` to compare its JavaScript with Portico's in-process.
import process from "node:process";
import { forwardTo, pathOf } from "./floor-fetch.ts";

async function oneChunk(response: Response): Promise<Response> {
  const bytes = await response.bytes();
  const headers = response.headers;
  headers.delete("content-length");
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return new Response(body, { status: response.status, headers });
}

/** The floor's request handler for one upstream. */
export function floorOneChunkHandler(upstream: string) {
  return async function handle(request: Request): Promise<Response> {
    const response = await forwardTo(upstream, pathOf(request.url), request);
    if (request.method === "HEAD") return response;
    const length = Number(response.headers.get("content-length") ?? -1);
    return length >= 15_360 && length <= 1024 * 1024 ? oneChunk(response) : response;
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
