// The admin access log (Kong's admin_access_log): one line per admin API request in nginx's combined format,
// written once the response body has gone out (its size is then known).
import type { Server } from "bun";
import type { LineWriter } from "../plugins/line-writer.ts";
import { dash, escapeLogValue, remoteUser, timeLocal } from "../proxy/access-log.ts";

type Handler = (
  request: Request,
  server: Server<unknown>,
) => Response | undefined | Promise<Response | undefined>;

/** Wraps an admin handler so every request it answers is logged to `writer`. */
export function withAdminAccessLog(handler: Handler, writer: LineWriter): Handler {
  return async (request, server) => {
    const client = server.requestIP(request)?.address ?? "-";
    const headers = request.headers;
    const url = request.url;
    const target = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const head = `${client} - ${remoteUser(headers.get("authorization"))}`;
    const tail = `"${dash(headers.get("referer"))}" "${dash(headers.get("user-agent"))}"`;
    const line = (status: number, bytes: number) =>
      `${head} [${timeLocal(Date.now())}] "${request.method} ${escapeLogValue(target)} HTTP/1.1" ${status} ${bytes} ${tail}`;
    let response: Response | undefined;
    try {
      response = await handler(request, server);
    } catch (error) {
      writer.write(line(500, 0));
      throw error;
    }
    // A WebSocket upgrade (GraphQL subscriptions) hands Bun nothing back.
    if (response === undefined) {
      writer.write(line(101, 0));
      return response;
    }
    const declared = response.headers.get("content-length");
    if (declared !== null || response.body === null || request.method === "HEAD") {
      writer.write(line(response.status, request.method === "HEAD" ? 0 : Number(declared ?? 0)));
      return response;
    }
    // Undeclared length: counted as it streams, logged after its last byte.
    let bytes = 0;
    const status = response.status;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
        flush() {
          writer.write(line(status, bytes));
        },
      }),
    );
    return new Response(counted, { status, statusText: response.statusText, headers: response.headers });
  };
}
