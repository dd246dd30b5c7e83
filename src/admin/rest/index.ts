// The REST admin: Kong-compatible endpoints plus the seed library's URLs, behind one router.
// Start-up: the admin listener answers before the node has finished starting. `GET /` (node-info.ts) is
// registered at once and needs only the node's facts; every other endpoint module (entities, plugins,
// schemas, declarative configuration, the status API, …) is imported on the first request that is not that
// one, and answers once the node's full context exists (the store, the proxy plane, the health checker) —
// a request that comes earlier waits for it. The full router registers `GET /` the same way, so which one
// answers makes no difference to a request.
import type { AdminContext, NodeContext } from "../context.ts";
import type { FullRouter } from "./endpoints.ts";
import { registerNodeInfo } from "./node-info.ts";
import { errorResponse, HttpError, methodNotAllowed, notFound } from "./respond.ts";
import { AdminRouter } from "./router.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** `full` resolves once the node has started far enough for the whole admin API (runtime/server.ts). */
export function createRestHandler(
  early: NodeContext,
  full: Promise<AdminContext>,
): (request: Request) => Promise<Response> {
  const node = new AdminRouter();
  registerNodeInfo(node, early);
  let router: FullRouter | undefined;
  let loading: Promise<FullRouter> | undefined;
  const loadFull = () =>
    (loading ??= Promise.all([import("./endpoints.ts"), full]).then(([{ createFullRouter }, context]) => {
      router = createFullRouter(context);
      return router;
    }));

  return async (request) => {
    const started = performance.now();
    const url = new URL(request.url);
    const chosen =
      router ??
      (node.match(request.method, normalizedPath(url)).kind === "handler" ? node : await loadFull());
    const response = await dispatch(chosen, early, request, url);
    response.headers.set("x-portico-admin-latency", String(Math.round(performance.now() - started)));
    return response;
  };
}

/**
 * Kong's status API alone (`--status-listen`): health, readiness and metrics, nothing that configures. Its
 * listener starts before the node's context is complete; its requests wait for it.
 */
export function createStatusHandler(full: Promise<AdminContext>): (request: Request) => Promise<Response> {
  let router: AdminRouter | undefined;
  let context: AdminContext | undefined;
  let loading: Promise<void> | undefined;
  const load = () =>
    (loading ??= Promise.all([import("./node-endpoints.ts"), full]).then(
      ([{ registerStatusEndpoints }, ready]) => {
        const status = new AdminRouter();
        registerStatusEndpoints(status, ready);
        context = ready;
        router = status;
      },
    ));
  return async (request) => {
    if (router === undefined) await load();
    return dispatch(router!, context!, request, new URL(request.url));
  };
}

/** The path routes are matched against: trailing slashes dropped (but `/` kept). */
function normalizedPath(url: URL): string {
  return url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
}

async function dispatch(
  router: AdminRouter,
  context: NodeContext,
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
