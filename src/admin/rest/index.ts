// The REST admin: Kong-compatible endpoints plus the seed library's URLs, behind one router.
// Start-up: the node's own endpoints (`GET /`, the status API) are registered at once; every other endpoint
// module (entities, plugins, schemas, declarative configuration, …) is imported on the first request that
// is not one of those, so the first answer does not wait for their code to load and register. Both routers
// register the node's endpoints the same way, so which one answers makes no difference to a request.
import type { AdminContext } from "../context.ts";
import type { FullRouter } from "./endpoints.ts";
import { errorResponse, HttpError, methodNotAllowed, notFound } from "./http.ts";
import { registerNodeEndpoints, registerStatusEndpoints } from "./node-endpoints.ts";
import { AdminRouter } from "./router.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function createRestHandler(context: AdminContext): (request: Request) => Promise<Response> {
  const node = new AdminRouter();
  registerNodeEndpoints(node, context);
  let full: FullRouter | undefined;
  let loading: Promise<FullRouter> | undefined;
  const loadFull = () =>
    (loading ??= import("./endpoints.ts").then(({ createFullRouter }) => {
      full = createFullRouter(context);
      return full;
    }));

  return async (request) => {
    const started = performance.now();
    const url = new URL(request.url);
    const router =
      full ?? (node.match(request.method, normalizedPath(url)).kind === "handler" ? node : await loadFull());
    const response = await dispatch(router, context, request, url);
    response.headers.set("x-portico-admin-latency", String(Math.round(performance.now() - started)));
    return response;
  };
}

/** Kong's status API alone (`--status-listen`): health, readiness and metrics, nothing that configures. */
export function createStatusHandler(context: AdminContext): (request: Request) => Promise<Response> {
  const router = new AdminRouter();
  registerStatusEndpoints(router, context);
  return (request) => dispatch(router, context, request, new URL(request.url));
}

/** The path routes are matched against: trailing slashes dropped (but `/` kept). */
function normalizedPath(url: URL): string {
  return url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
}

async function dispatch(
  router: AdminRouter,
  context: AdminContext,
  request: Request,
  url: URL,
): Promise<Response> {
  try {
    refuseCrossSiteWrites(request, url);
    const pathname = normalizedPath(url);
    // With service management off, the seed's PATCH /services is gone, not merely "not allowed".
    if (!context.node.service_management && request.method === "PATCH" && pathname === "/services")
      throw notFound();
    const match = router.match(request.method, pathname);
    switch (match.kind) {
      case "not-found":
        throw notFound();
      case "method-not-allowed":
        throw methodNotAllowed();
      case "options":
        return new Response(null, {
          status: 204,
          headers: {
            allow: match.allow,
            "access-control-allow-methods": match.allow,
            "access-control-allow-headers": "Content-Type",
            // As Kong. Harmless for writes: the request that follows a preflight still carries its
            // Origin and is refused by refuseCrossSiteWrites.
            "access-control-allow-origin": "*",
          },
        });
      case "handler": {
        const response = await match.handler(request, match.params, url);
        return match.head
          ? new Response(null, { status: response.status, headers: response.headers })
          : response;
      }
    }
  } catch (error) {
    return errorResponse(error, request);
  }
}

/**
 * A web page must not be able to drive a local admin API: browsers mark cross-site requests with
 * `Origin`, so a write whose Origin is not this listener is refused. CLI clients send no Origin.
 */
function refuseCrossSiteWrites(request: Request, url: URL): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.get("origin");
  if (origin === null) return;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (originHost !== url.host) throw new HttpError(403, "Cross-origin admin requests are not allowed");
}
