// The in-process benchmarks' upstream (js-cost.ts, plugin-cost.ts): `fetch` answered at once with what nginx
// sends for a static file, so neither the kernel nor Bun's HTTP client is in their figures.

/** A `fetch` stand-in answering every call with `size` bytes and nginx's headers for a static file. */
export function cannedNginxFetch(size: number): () => Promise<Response> {
  const body = "a".repeat(size);
  return async () =>
    new Response(body, {
      headers: {
        "content-type": "text/plain",
        "content-length": String(size),
        server: "nginx/1.22.1",
        date: "Mon, 30 Nov 2026 06:26:53 GMT",
        "last-modified": "Mon, 30 Nov 2026 06:26:44 GMT",
        etag: '"6b0d1724-64"',
        "accept-ranges": "bytes",
      },
    });
}

/** What Bun.serve hands a handler, as far as the proxy and the floor handlers use it. */
export const BENCH_SERVER = {
  port: 8000,
  requestIP: () => ({ address: "127.0.0.1", port: 40000, family: "IPv4" as const }),
  timeout() {},
};
