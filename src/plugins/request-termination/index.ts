// request-termination: answers every request itself, with a fixed status and message or body, or an echo of
// the request (kong/plugins/request-termination/handler.lua). With `trigger`, only requests that carry a
// header or query argument of that name are answered; the others pass on. Priority 2: it runs after
// authentication and rate limiting, so a terminated route still checks who calls it.
import { hostname } from "node:os";
import type { PluginContext, PluginDescriptor } from "../contract.ts";
import { parseBody, parseQuery, uriCaptures } from "../kong-request.ts";
import { type RequestTerminationConfig, requestTerminationConfig } from "./schema.ts";

/** Kong's messages for the statuses it has one for; any other status is answered without a body. */
export const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  401: "Unauthorized",
  404: "Not found",
  405: "Method not allowed",
  500: "An unexpected error occurred",
  502: "Bad Gateway",
  503: "Service unavailable",
};

const JSON_TYPE = "application/json; charset=utf-8";

/** Kong's kong.response.exit with a table: the JSON of it, nothing added. */
function json(ctx: PluginContext, status: number, value: unknown): Response {
  return ctx.exit(status, JSON.stringify(value), { "content-type": JSON_TYPE });
}

/** The trigger is a header or a query argument of that name (any value, even empty). */
function triggered(ctx: PluginContext, name: string): boolean {
  if (ctx.request.headers.has(name)) return true;
  // Kong's header table also finds `x_y` as `x-y`.
  if (name.includes("_") && ctx.request.headers.has(name.replaceAll("_", "-"))) return true;
  return ctx.query !== "" && parseQuery(ctx.query.slice(1))[name] !== undefined;
}

/** Kong's echo: the request as the gateway saw it. */
async function echo(ctx: PluginContext, config: RequestTerminationConfig): Promise<Response> {
  const url = new URL(ctx.request.url);
  const raw = await ctx.readBodyBytes();
  const contentType = ctx.request.headers.get("content-type");
  return json(ctx, config.status_code, {
    message: config.message ?? DEFAULT_MESSAGES[config.status_code],
    kong: { worker_pid: process.pid, hostname: hostname() },
    request: {
      scheme: url.protocol.slice(0, -1),
      host: url.hostname,
      port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      headers: ctx.request.headers.toJSON(),
      query: parseQuery(ctx.query.slice(1)),
      body: await parseBody(raw, contentType),
      raw_body: Buffer.from(raw).toString("utf8"),
      method: ctx.method,
      path: url.pathname,
      uri_captures: uriCaptures(ctx.uriCaptures),
    },
    matched_route: ctx.route,
    matched_service: ctx.service,
  });
}

export const requestTermination: PluginDescriptor<RequestTerminationConfig> = {
  name: "request-termination",
  priority: 2,
  version: "1.0.0",
  get config() {
    return requestTerminationConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config) {
    const trigger = config.trigger?.toLowerCase() ?? null;
    const status = config.status_code;
    const message = config.message ?? DEFAULT_MESSAGES[status];
    return {
      access(ctx) {
        if (trigger !== null && !triggered(ctx, trigger)) return undefined;
        if (config.echo) return echo(ctx, config);
        if (config.body !== null) {
          const headers: Record<string, string> = {};
          if (config.content_type !== null) headers["content-type"] = config.content_type;
          return ctx.exit(status, config.body, headers);
        }
        return message === undefined ? ctx.exit(status) : json(ctx, status, { message });
      },
    };
  },
};
