// request-size-limiting: refuses request bodies over a size (kong/plugins/request-size-limiting/handler.lua).
// An announced Content-Length is judged at once (413, or 417 when the client waits on Expect: 100-continue);
// a body of unannounced length is counted while it streams to the upstream — never buffered whole — and
// refused the moment it passes the limit.
import type { PluginDescriptor } from "../contract.ts";
import { type RequestSizeLimitingConfig, requestSizeLimitingConfig, SIZE_UNITS } from "./schema.ts";

export const requestSizeLimiting: PluginDescriptor<RequestSizeLimitingConfig> = {
  name: "request-size-limiting",
  priority: 951,
  version: "1.0.0",
  get config() {
    return requestSizeLimitingConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config) {
    const limit = config.allowed_payload_size * SIZE_UNITS[config.size_unit];
    return {
      access(ctx) {
        const headers = ctx.request.headers;
        if (
          config.require_content_length &&
          !headers.has("content-length") &&
          headers.get("transfer-encoding") !== "chunked"
        )
          return ctx.respond(411, "A valid Content-Length header is required");
        const expect = headers.get("expect");
        return ctx.limitBody(limit, expect?.trim().toLowerCase() === "100-continue" ? 417 : 413);
      },
    };
  },
};
