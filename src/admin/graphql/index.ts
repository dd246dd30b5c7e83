// GraphQL on the admin listener: `/graphql` (graphql-yoga: POST for operations, GET for queries and the
// playground, server-sent events for subscriptions), graphql-ws over WebSocket on the same path, and the
// playground's assets under `/graphql/assets/`.
//
// A web page must not be able to drive the admin API of the machine it runs on, so: mutations only over
// POST with a JSON body (yoga refuses them over GET; forms and text/plain are refused here), no CORS
// headers, and a request or WebSocket whose Origin is another site is refused.

import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { type ExecutionArgs, GraphQLError, getOperationAST } from "graphql";
import { handleProtocols, makeHandler } from "graphql-ws/use/bun";
import { createYoga } from "graphql-yoga";
import type { AdminContext } from "../context.ts";
import { readCapped } from "../read-capped.ts";
import type { GraphqlContext } from "./builder.ts";
import { GRAPHQL_BODY_LIMIT, GRAPHQL_PATH } from "./endpoint.ts";
import { MASKED_MESSAGE, maskError } from "./errors.ts";
import { useLimits } from "./limits.ts";
import { EntityLoaders } from "./loaders.ts";
import { ASSETS_PATH, DEFAULT_QUERY, PLAYGROUND_CSP, renderPlayground, serveAsset } from "./playground.ts";
import { schema } from "./schema.ts";

export type GraphqlSocketData = { request: Request };

export type GraphqlHandler = {
  /** Answers a `/graphql…` request; undefined when the request became a WebSocket. */
  fetch(request: Request, server: Server<unknown>): Promise<Response | undefined>;
  websocket: WebSocketHandler<unknown>;
  /** Ends every live subscription (SSE and WebSocket) so that a graceful stop can drain the listener. */
  close(): void;
};

const JSON_TYPES = new Set(["application/json"]);

/** Live operations one WebSocket may hold (each subscription is a listener on a feed). */
export const MAX_OPERATIONS_PER_SOCKET = 100;

function graphqlErrorResponse(status: number, message: string, headers: Record<string, string> = {}) {
  return Response.json({ errors: [{ message }] }, { status, headers });
}

/** True when a browser says the request comes from a page of another site. */
function isCrossSite(request: Request, url: URL): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return false;
  try {
    return new URL(origin).host !== url.host;
  } catch {
    return true;
  }
}

export function createGraphqlHandler(admin: AdminContext): GraphqlHandler {
  const closing = new AbortController();
  const yoga = createYoga<Record<string, unknown>, GraphqlContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    batching: false,
    cors: false,
    landingPage: false,
    logging: false,
    maskedErrors: { maskError, errorMessage: MASKED_MESSAGE, isDev: false },
    graphiql: { title: "Portico GraphQL", defaultQuery: DEFAULT_QUERY },
    renderGraphiQL: (options) => renderPlayground({ ...options }),
    context: () => ({
      admin,
      loaders: new EntityLoaders(admin.store),
      closing: closing.signal,
    }),
    plugins: [useLimits()],
  });

  const graphqlWs = makeHandler({
    execute: (args) => (args.rootValue as Enveloped).execute(args),
    subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
    onSubscribe: async (ctx, _id, payload) => {
      // The current operation holds a reservation already, hence `>`.
      if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_SOCKET)
        return [new GraphQLError(`At most ${MAX_OPERATIONS_PER_SOCKET} operations at a time on one socket.`)];
      const enveloped = yoga.getEnveloped({
        ...ctx,
        request: (ctx.extra.socket.data as unknown as GraphqlSocketData).request,
        params: payload,
      });
      let document: ReturnType<typeof enveloped.parse>;
      try {
        document = enveloped.parse(payload.query);
      } catch (error) {
        return [error instanceof GraphQLError ? error : new GraphQLError("Cannot parse the query")];
      }
      const errors = enveloped.validate(enveloped.schema, document);
      if (errors.length > 0) return errors;
      if (getOperationAST(document, payload.operationName)?.operation === "mutation")
        return [new GraphQLError("Mutations are accepted only over POST with a JSON body.")];
      const args: ExecutionArgs = {
        schema: enveloped.schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue: await enveloped.contextFactory(),
        rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
      };
      return args;
    },
  });
  type Enveloped = {
    execute: (args: ExecutionArgs) => ReturnType<ReturnType<typeof yoga.getEnveloped>["execute"]>;
    subscribe: (args: ExecutionArgs) => ReturnType<ReturnType<typeof yoga.getEnveloped>["subscribe"]>;
  };

  const sockets = new Set<ServerWebSocket<unknown>>();
  const websocket: WebSocketHandler<unknown> = {
    maxPayloadLength: GRAPHQL_BODY_LIMIT,
    open(ws) {
      sockets.add(ws);
      graphqlWs.open?.(ws as ServerWebSocket);
      if (closing.signal.aborted) ws.close(1001, "Portico is shutting down");
    },
    message: (ws, message) => graphqlWs.message(ws as ServerWebSocket, message),
    close(ws, code, reason) {
      sockets.delete(ws);
      return graphqlWs.close?.(ws as ServerWebSocket, code, reason);
    },
  };

  return {
    websocket,
    close() {
      closing.abort();
      for (const ws of sockets) ws.close(1001, "Portico is shutting down");
    },
    async fetch(request, server) {
      const url = new URL(request.url);
      if (url.pathname.startsWith(ASSETS_PATH)) return serveAsset(request, url.pathname);
      if (url.pathname !== GRAPHQL_PATH) return Response.json({ message: "Not found" }, { status: 404 });
      if (isCrossSite(request, url))
        return graphqlErrorResponse(403, "Cross-origin GraphQL requests are not allowed");

      if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
        const protocol = handleProtocols(request.headers.get("sec-websocket-protocol") ?? "");
        if (!protocol)
          return graphqlErrorResponse(400, "Unsupported WebSocket subprotocol: use graphql-transport-ws");
        const data: GraphqlSocketData = { request };
        if (server.upgrade(request, { data, headers: { "sec-websocket-protocol": protocol } }))
          return undefined;
        return graphqlErrorResponse(400, "WebSocket upgrade failed");
      }

      switch (request.method) {
        case "GET":
          break;
        case "POST": {
          const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
          if (!JSON_TYPES.has(type))
            return graphqlErrorResponse(415, "GraphQL requests must be POSTed as application/json");
          const body = await readCapped(request, GRAPHQL_BODY_LIMIT);
          if (body === null) return graphqlErrorResponse(413, "Request body too large");
          // The client's signal goes along: yoga ends a subscription when its client hangs up.
          return yoga.fetch(
            new Request(request.url, {
              method: "POST",
              headers: request.headers,
              body,
              signal: request.signal,
            }),
            {},
          );
        }
        case "OPTIONS":
          // No CORS headers: a cross-site page's preflight fails, same-site pages need none.
          return new Response(null, { status: 204, headers: { allow: "GET, POST, OPTIONS" } });
        default:
          return graphqlErrorResponse(405, "Method not allowed", { allow: "GET, POST, OPTIONS" });
      }
      // Only `/graphql` itself reaches yoga (its landing page and /health never answer here).
      const response = await yoga.fetch(request, {});
      // The playground page may load and connect only to this listener, whatever its script tries.
      if (response.headers.get("content-type")?.startsWith("text/html"))
        response.headers.set("content-security-policy", PLAYGROUND_CSP);
      return response;
    },
  };
}
