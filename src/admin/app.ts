// The admin listener: Kong-compatible REST plus the seed-library URLs, and GraphQL at /graphql.
import type { Server, WebSocketHandler } from "bun";
import type { AdminContext } from "./context.ts";
import { createGraphqlHandler, isGraphqlPath } from "./graphql/index.ts";
import { createRestHandler } from "./rest/index.ts";

export { createStatusHandler } from "./rest/index.ts";

export type AdminHandler = {
  /** Undefined when the request was upgraded to a WebSocket (GraphQL subscriptions over graphql-ws). */
  fetch(request: Request, server: Server<unknown>): Response | undefined | Promise<Response | undefined>;
  websocket: WebSocketHandler<unknown>;
  /** Before a graceful stop: ends long-lived GraphQL subscriptions, which would otherwise never finish. */
  close(): void;
};

export function createAdminHandler(context: AdminContext): AdminHandler {
  const rest = createRestHandler(context);
  const graphql = createGraphqlHandler(context);
  return {
    fetch(request, server) {
      // Only the path is needed to pick the API; REST parses the URL again for itself.
      const start = request.url.indexOf("/", request.url.indexOf("//") + 2);
      const end = request.url.indexOf("?", start);
      const pathname = request.url.slice(start, end === -1 ? undefined : end);
      return isGraphqlPath(pathname) ? graphql.fetch(request, server) : rest(request);
    },
    // WebSockets on the admin listener are GraphQL's only.
    websocket: graphql.websocket,
    close: () => graphql.close(),
  };
}
