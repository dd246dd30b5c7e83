// cors: answers CORS preflights at the gateway and adds the CORS headers to every other response
// (kong/plugins/cors/handler.lua). Priority 2000, so it runs before authentication: a preflight never needs
// credentials, and a 401 from key-auth still carries the headers a browser needs to read it.
import type { PluginContext, PluginDescriptor } from "../contract.ts";
import { compileOrigins, type OriginPolicy } from "./origins.ts";
import { CORS_METHODS, type CorsConfig, corsConfig } from "./schema.ts";

/** OPTIONS with an Origin and an Access-Control-Request-Method: what Kong treats as a preflight. */
function isPreflight(ctx: PluginContext): boolean {
  if (ctx.method !== "OPTIONS") return false;
  const headers = ctx.request.headers;
  return !!headers.get("origin") && headers.has("access-control-request-method");
}

/** Adds Origin to Vary once (a preflight answer is the gateway's own: there it replaces). */
function varyByOrigin(headers: Headers, replace: boolean): void {
  const vary = headers.get("vary");
  if (replace || vary === null) headers.set("vary", "Origin");
  else if (!vary.split(",").some((token) => token.trim().toLowerCase() === "origin"))
    headers.append("vary", "Origin");
}

/** Sets the allowed origin and credentials on `headers` (Kong's configure_origin + configure_credentials). */
function allowOrigin(
  headers: Headers,
  policy: OriginPolicy,
  credentials: boolean,
  requestOrigin: string | null,
  preflight: boolean,
): void {
  // Kong always marks a non-wildcard answer as varying by Origin (caches key on it), matched or not.
  if (policy.varies) varyByOrigin(headers, preflight);
  const verdict = policy.decide(requestOrigin);
  switch (verdict.kind) {
    case "any":
      headers.set("access-control-allow-origin", "*");
      // `*` cannot go with credentials: the request's own origin is echoed instead.
      if (credentials && requestOrigin) {
        varyByOrigin(headers, preflight);
        headers.set("access-control-allow-origin", requestOrigin);
        headers.set("access-control-allow-credentials", "true");
      }
      return;
    case "literal":
    case "echo":
      headers.set("access-control-allow-origin", verdict.origin);
      break;
    case "none":
      headers.delete("access-control-allow-origin");
      break;
  }
  if (credentials) headers.set("access-control-allow-credentials", "true");
}

export const cors: PluginDescriptor<CorsConfig> = {
  name: "cors",
  priority: 2000,
  version: "1.0.0",
  get config() {
    return corsConfig();
  },
  // Kong's no_consumer: CORS runs before anyone is authenticated.
  scoping: { consumer: false, route: true, service: true },
  handlesPreflight: true,
  compile(config) {
    const policy = compileOrigins(config.origins);
    const allowMethods = (config.methods ?? CORS_METHODS).join(",");
    const allowHeaders =
      config.headers !== null && config.headers.length > 0 ? config.headers.join(",") : null;
    const exposeHeaders =
      config.exposed_headers !== null && config.exposed_headers.length > 0
        ? config.exposed_headers.join(",")
        : null;
    const maxAge = config.max_age === null ? null : String(config.max_age);
    // The request's Origin matters to the answer only when an absent one gets nothing, the configured origins
    // are compared with it, or it is echoed for credentials; otherwise (one literal origin, or `*`, without
    // credentials) every non-preflight response gets the same headers and the Origin is not read.
    const readsOrigin = !config.allow_origin_absent || policy.readsOrigin || config.credentials;

    return {
      access(ctx) {
        if (!isPreflight(ctx) || config.preflight_continue) return undefined;
        const request = ctx.request.headers;
        const headers = new Headers();
        allowOrigin(headers, policy, config.credentials, request.get("origin"), true);
        const requested = request.get("access-control-request-headers");
        if (allowHeaders !== null) headers.set("access-control-allow-headers", allowHeaders);
        else if (requested !== null) headers.set("access-control-allow-headers", requested);
        headers.set("access-control-allow-methods", allowMethods);
        if (maxAge !== null) headers.set("access-control-max-age", maxAge);
        if (config.private_network && request.get("access-control-request-private-network") === "true")
          headers.set("access-control-allow-private-network", "true");
        return ctx.exit(200, null, headers);
      },
      response(ctx, response) {
        // A preflight was answered above with everything it needs, or is the upstream's to answer.
        if (isPreflight(ctx)) return undefined;
        const requestOrigin = readsOrigin ? ctx.request.headers.get("origin") : null;
        if (!requestOrigin && !config.allow_origin_absent) return undefined;
        allowOrigin(response.headers, policy, config.credentials, requestOrigin, false);
        if (exposeHeaders !== null) response.headers.set("access-control-expose-headers", exposeHeaders);
        return undefined;
      },
    };
  },
};
