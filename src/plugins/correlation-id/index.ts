// correlation-id: gives every request an id in a header of its own, kept if the client sent one, passed
// upstream, logged as `correlation_id`, and echoed on the response with echo_downstream
// (kong/plugins/correlation-id/handler.lua). Priority 100001: before everything, so every other plugin's
// answer carries it too.
import type { PluginDescriptor } from "../contract.ts";
import { GENERATE } from "./generators.ts";
import { type CorrelationIdConfig, correlationIdConfig } from "./schema.ts";

export const correlationId: PluginDescriptor<CorrelationIdConfig> = {
  name: "correlation-id",
  priority: 100001,
  version: "1.0.0",
  get config() {
    return correlationIdConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config) {
    const name = config.header_name;
    const generate = GENERATE[config.generator];
    // Kong with a null header_name: nothing is read or set (its get_header(nil) finds nothing to keep, and
    // setting a header without a name fails); here it is a no-op.
    if (name === null) return {};
    return {
      access(ctx) {
        let id = ctx.request.headers.get(name);
        if (id === null || id === "") {
          id = generate(ctx.request.url);
          ctx.upstreamHeaders.set(name, id);
        }
        ctx.setSerializeValue("correlation_id", id);
        // On whatever answers: the upstream, another plugin, or a gateway error.
        if (config.echo_downstream) ctx.setResponseHeader(name, id);
        return undefined;
      },
    };
  },
};
