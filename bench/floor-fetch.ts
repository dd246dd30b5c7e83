// Bench targets' shared upstream call (not product code): the request passed to fetch as it is — method,
// the given headers, the body streamed — with no redirect following and no decompression, as a proxy must.

/** The path and query of an absolute request URL (`http://host:port/path?q` → `/path?q`). */
export function pathOf(url: string): string {
  return url.slice(url.indexOf("/", url.indexOf("//") + 2));
}

/** Sends `request` to `upstream` + `path` with `headers`. */
export function forwardTo(
  upstream: string,
  path: string,
  request: Request,
  headers: Headers = request.headers,
): Promise<Response> {
  const init: RequestInit & { decompress: boolean; duplex: "half" } = {
    method: request.method,
    headers,
    body: request.body,
    duplex: "half",
    redirect: "manual",
    decompress: false,
  };
  return fetch(upstream + path, init);
}
