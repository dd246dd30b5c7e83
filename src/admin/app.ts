// The admin listener: Kong-compatible REST plus the seed-library URLs, and GraphQL at /graphql.
import type { Server, WebSocketHandler } from "bun";
import type { AdminContext } from "./context.ts";
import { createRestHandler } from "./rest/index.ts";

export type AdminHandler = {
  fetch(request: Request, server: Server<unknown>): Response | Promise<Response>;
  websocket: WebSocketHandler<unknown>;
};

export function createAdminHandler(context: AdminContext): AdminHandler {
  const rest = createRestHandler(context);
  return {
    fetch: (request) => rest(request),
    websocket: { message() {} },
  };
}
