// Hands the upstream response to Bun.serve. Works around the large-response cliff (PLATFORM-NOTES, see
// bench/README.md): Bun.serve writes the head of an in-memory body of 15,360 bytes or more uncorked when the
// response is produced after an event-loop turn, one send per header token. A one-chunk stream body is
// written with a single send, so bodies in that window are buffered and answered as such a stream. Small,
// unknown-length, HEAD and very large responses pass straight through (streaming matters more there).

/** Bun.serve's cork threshold: 16 KiB minus 1 KiB. */
export const CORK_THRESHOLD = 15_360;

/**
 * Whether a direct stream's controller is Bun.serve's response over HTTP/1.1 or TLS (HTTP/2 included): those
 * copy every chunk written, also under backpressure (checked with slow readers at 1 MiB). A JavaScript
 * consumer (`.text()`, a reader) may keep the chunk itself, and other sinks are unchecked: their buffers stay.
 */
function isResponseSink(controller: object): boolean {
  const tag = Object.prototype.toString.call(controller);
  return (
    tag === "[object ReadableHTTPResponseSinkController]" ||
    tag === "[object ReadableHTTPSResponseSinkController]"
  );
}

/**
 * `bytes` as a one-chunk body: Bun's direct stream. Written into Bun.serve's response, the buffer is released
 * at once (`transfer(0)` detaches it and frees its memory) rather than at the next collection. Held until
 * then, the buffers of the requests between two collections (~450 at 16 KiB) were freed together, their
 * pages handed back to the kernel by mimalloc and faulted in again by Bun's HTTP client thread: ~2.5 page
 * faults and ~7 µs of mimalloc's scavenger thread per request that the one-chunk floor did not pay
 * (bench/README.md, Nov 30 14:40–15:35).
 */
function oneChunk(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  const source: Bun.DirectUnderlyingSource<Uint8Array> = {
    type: "direct",
    pull(controller) {
      try {
        controller.write(bytes);
        controller.end();
      } finally {
        if (isResponseSink(controller)) bytes.buffer.transfer(0);
      }
    },
  };
  // The global ReadableStream's declared constructors (Node's) lack Bun's direct overload.
  return new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>);
}

/** Where a logged request notes the body it buffered (its size, and when it was read). */
export type BufferRecorder = { bodySize: number; bodyReadAt: number };

/**
 * The response is in the window: its body is to be read whole (`response.bytes()`, awaited by the caller in
 * its own async frame) and answered by `oneChunkResponse`. Anything else passes straight through.
 * @param declared the response's Content-Length header (read by the caller, which also logs it)
 * @param bufferMax largest Content-Length that is buffered; 0 turns the workaround off
 */
export function needsOneChunk(declared: string | null, method: string, bufferMax: number): boolean {
  if (bufferMax === 0 || method === "HEAD" || declared === null) return false;
  const length = Number(declared);
  return length >= CORK_THRESHOLD && length <= bufferMax;
}

/**
 * The buffered body as a one-chunk stream, with the upstream's status and headers (Bun frames a stream body
 * chunked, so its Content-Length goes). `bytes` must be the caller's own (`response.bytes()`): it is
 * detached once written.
 * @param recorder set when the request is logged
 */
export function oneChunkResponse(
  response: Response,
  bytes: Uint8Array<ArrayBuffer>,
  recorder: BufferRecorder | null,
): Response {
  const headers = response.headers;
  headers.delete("content-length");
  if (recorder !== null) {
    recorder.bodySize = bytes.byteLength;
    recorder.bodyReadAt = performance.now();
  }
  return new Response(oneChunk(bytes), { status: response.status, statusText: response.statusText, headers });
}
