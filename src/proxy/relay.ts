// Hands the upstream response to Bun.serve. Works around the large-response cliff (PLATFORM-NOTES, see
// bench/README.md): Bun.serve writes the head of an in-memory body of 15,360 bytes or more uncorked when the
// response is produced after an event-loop turn, one send per header token. A one-chunk stream body is
// written with a single send, so bodies in that window are buffered and answered as such a stream. Small,
// unknown-length, HEAD and very large responses pass straight through (streaming matters more there).

/** Bun.serve's cork threshold: 16 KiB minus 1 KiB. */
export const CORK_THRESHOLD = 15_360;

function oneChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** Where a logged request notes the body it buffered (its size, and when it was read). */
export type BufferRecorder = { bodySize: number; bodyReadAt: number };

/**
 * The response is in the window: its body is to be read whole (`response.bytes()`, awaited by the caller in
 * its own async frame) and answered by `oneChunkResponse`. Anything else passes straight through.
 * @param bufferMax largest Content-Length that is buffered; 0 turns the workaround off
 */
export function needsOneChunk(response: Response, method: string, bufferMax: number): boolean {
  if (bufferMax === 0 || method === "HEAD") return false;
  const header = response.headers.get("content-length");
  if (header === null) return false;
  const length = Number(header);
  return length >= CORK_THRESHOLD && length <= bufferMax;
}

/**
 * The buffered body as a one-chunk stream, with the upstream's status and headers (Bun frames a stream body
 * chunked, so its Content-Length goes).
 * @param recorder set when the request is logged
 */
export function oneChunkResponse(
  response: Response,
  bytes: Uint8Array,
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
