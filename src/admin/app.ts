// The admin listener: Kong-compatible REST plus the seed-library URLs, and GraphQL at /graphql.
// GraphQL (graphql-js, yoga, the schema) loads on the first /graphql request: building the schema is most
// of what start-up would otherwise cost, and REST never needs it. The dynamic import stays inside the binary.
// The listener answers before the node has finished starting: `early` serves `GET /`, and every other
// request waits for `full`, the node's whole context (see rest/index.ts).
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { AdminContext, NodeContext } from "./context.ts";
import { GRAPHQL_BODY_LIMIT, isGraphqlPath } from "./graphql/endpoint.ts";
import type { GraphqlHandler } from "./graphql/index.ts";
import { createRestHandler } from "./rest/index.ts";

export { createStatusHandler } from "./rest/index.ts";

export type AdminHandler = {
  /** Undefined when the request was upgraded to a WebSocket (GraphQL subscriptions over graphql-ws). */
  fetch(request: Request, server: Server<unknown>): Response | undefined | Promise<Response | undefined>;
  websocket: WebSocketHandler<unknown>;
  /** Before a graceful stop: ends long-lived GraphQL subscriptions, which would otherwise never finish. */
  close(): void;
};

export function createAdminHandler(early: NodeContext, full: Promise<AdminContext>): AdminHandler {
  const rest = createRestHandler(early, full);
  let graphql: GraphqlHandler | undefined;
  let loading: Promise<GraphqlHandler> | undefined;
  let closed = false;
  const loadGraphql = () =>
    (loading ??= Promise.all([import("./graphql/index.ts"), full]).then(
      ([{ createGraphqlHandler }, context]) => {
        graphql = createGraphqlHandler(context);
        // A stop that came while loading still ends whatever this handler will hold.
        if (closed) graphql.close();
        return graphql;
      },
    ));

  // WebSockets exist only after GraphQL upgraded a request, so the handler is loaded by the time these run.
  const socketHandler = () => graphql!.websocket;
  return {
    fetch(request, server) {
      // Only the path is needed to pick the API; REST parses the URL again for itself.
      const start = request.url.indexOf("/", request.url.indexOf("//") + 2);
      const end = request.url.indexOf("?", start);
      const pathname = request.url.slice(start, end === -1 ? undefined : end);
      if (!isGraphqlPath(pathname)) return rest(request);
      return graphql ? graphql.fetch(request, server) : loadGraphql().then((h) => h.fetch(request, server));
    },
    // WebSockets on the admin listener are GraphQL's only.
    websocket: {
      maxPayloadLength: GRAPHQL_BODY_LIMIT,
      open: (ws: ServerWebSocket<unknown>) => socketHandler().open?.(ws),
      message: (ws, message) => socketHandler().message?.(ws, message),
      close: (ws, code, reason) => socketHandler().close?.(ws, code, reason),
    },
    close() {
      closed = true;
      graphql?.close();
    },
  };
}
