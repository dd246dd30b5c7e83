// Service health: `refreshServices` (the seed's `PATCH /services`: rebuild the proxy's configuration, then
// probe every enabled service) and the `serviceHealth` subscription fed by every probe.
import type { ServiceHealth } from "../context.ts";
import type { TargetProbe } from "../service-health.ts";
import { builder } from "./builder.ts";
import { liveFeed } from "./live.ts";

const TargetProbeObject = builder.objectRef<TargetProbe>("TargetProbe").implement({
  description: "One address of a balanced service's target, probed now.",
  fields: (t) => ({
    target: t.exposeString("target"),
    address: t.exposeString("address"),
    up: t.exposeBoolean("up"),
    status: t.exposeInt("status", { nullable: true }),
    error: t.exposeString("error", { nullable: true }),
    health: t.exposeString("health", { description: "The node's health checker's word for the target." }),
  }),
});

export const ServiceHealthObject = builder.objectRef<ServiceHealth>("ServiceHealth").implement({
  description: "The result of probing a service's URL: any HTTP answer is up; refused, timeout, DNS: down.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The service's id." }),
    name: t.exposeString("name", { nullable: true }),
    url: t.exposeString("url"),
    up: t.exposeBoolean("up"),
    status: t.exposeInt("status", { nullable: true, description: "The HTTP status answered, if any." }),
    error: t.exposeString("error", { nullable: true, description: "Why the probe failed, if it did." }),
    latencyMs: t.exposeFloat("latency_ms"),
    targets: t.field({
      type: [TargetProbeObject],
      nullable: true,
      description: "A service balanced over an upstream: each address of its targets (else null).",
      resolve: (health) => health.targets ?? null,
    }),
  }),
});

builder.mutationField("refreshServices", (t) =>
  t.field({
    type: [ServiceHealthObject],
    description:
      "Reload the proxy's configuration from the store now, then probe every enabled service " +
      "(REST: the seed library's `PATCH /services`).",
    resolve: (_root, _args, ctx) => {
      ctx.loaders.clear();
      return ctx.admin.refreshServices();
    },
  }),
);

builder.subscriptionField("serviceHealth", (t) =>
  t.field({
    type: ServiceHealthObject,
    description: "Every health result as it is produced (by `refreshServices` and later health checks).",
    subscribe: (_root, _args, ctx) =>
      liveFeed<ServiceHealth>(ctx.closing, (push) => ctx.admin.subscribeHealth(push)),
    resolve: (health) => health,
  }),
);
