// Upstream health in GraphQL: `Upstream.health` (this node's view, as REST's /upstreams/{u}/health) and the
// `targetHealth` subscription, which streams every change of an address's health as the node's checker
// decides it (passive, active or manual).

import {
  balancerHealthy,
  type TargetHealthChange,
  type TargetHealthView,
  targetHealthWord,
  type UpstreamHealthView,
  weightsOf,
} from "../../schemas/upstream-health.ts";
import type { Upstream } from "../../schemas/upstreams.ts";
import { builder } from "./builder.ts";
import { entityObject } from "./entities.ts";
import { liveFeed } from "./live.ts";

type AddressRow = { ip: string; port: number; weight: number; health: string };
type TargetRow = { view: UpstreamHealthView; target: TargetHealthView };

const HEALTH_WORDS = "HEALTHY, UNHEALTHY, HEALTHCHECKS_OFF or DNS_ERROR (Kong's words)";

const AddressHealth = builder.objectRef<AddressRow>("AddressHealth").implement({
  description: "One resolved address of a target.",
  fields: (t) => ({
    ip: t.exposeString("ip"),
    port: t.exposeInt("port"),
    weight: t.exposeInt("weight"),
    health: t.exposeString("health", { description: HEALTH_WORDS }),
  }),
});

const TargetHealth = builder.objectRef<TargetRow>("TargetHealth").implement({
  description: "A target's health on this node.",
  fields: (t) => ({
    targetId: t.id({ resolve: (row) => row.target.targetId }),
    target: t.string({ resolve: (row) => row.target.target, description: "`host:port`." }),
    weight: t.int({ resolve: (row) => row.target.weight }),
    health: t.string({ resolve: (row) => targetHealthWord(row.view, row.target), description: HEALTH_WORDS }),
    dns: t.string({
      resolve: (row) => row.target.dns,
      description: "The record type it resolved with, or the resolver's error.",
    }),
    addresses: t.field({
      type: [AddressHealth],
      resolve: ({ view, target }) => {
        const checked = view.usingChecks && target.weight > 0;
        return target.addresses.map((a) => ({
          ip: a.ip,
          port: a.port,
          weight: a.weight,
          health: checked ? (a.healthy ? "HEALTHY" : "UNHEALTHY") : "HEALTHCHECKS_OFF",
        }));
      },
    }),
  }),
});

const UpstreamHealth = builder.objectRef<UpstreamHealthView>("UpstreamHealth").implement({
  description: "An upstream's health on this node (REST: `/upstreams/{u}/health`).",
  fields: (t) => ({
    health: t.string({
      description: "HEALTHY, UNHEALTHY, or HEALTHCHECKS_OFF when no check is configured.",
      resolve: (view) =>
        view.usingChecks ? (balancerHealthy(view) ? "HEALTHY" : "UNHEALTHY") : "HEALTHCHECKS_OFF",
    }),
    availableWeight: t.int({ resolve: (view) => weightsOf(view.targets).available }),
    totalWeight: t.int({ resolve: (view) => weightsOf(view.targets).total }),
    targets: t.field({
      type: [TargetHealth],
      resolve: (view) => view.targets.map((target) => ({ view, target })),
    }),
  }),
});

builder.objectField(entityObject("upstreams"), "health", (t) =>
  t.field({
    type: UpstreamHealth,
    nullable: true,
    description: "Its targets' health on this node; null until the node's checker has seen the upstream.",
    resolve: (upstream, _args, ctx) => ctx.admin.upstreamHealth.view((upstream as unknown as Upstream).id),
  }),
);

const TargetHealthEvent = builder.objectRef<TargetHealthChange>("TargetHealthChange").implement({
  description: "An address of a target turned healthy or unhealthy on this node.",
  fields: (t) => ({
    upstreamId: t.exposeID("upstreamId"),
    upstreamName: t.exposeString("upstreamName"),
    targetId: t.exposeID("targetId"),
    target: t.exposeString("target"),
    address: t.exposeString("address", { description: "`ip:port`." }),
    healthy: t.exposeBoolean("healthy"),
    source: t.exposeString("source", { description: "What decided it: active, passive or manual." }),
    at: t.exposeFloat("at", { description: "When, in milliseconds since the epoch." }),
  }),
});

builder.subscriptionField("targetHealth", (t) =>
  t.field({
    type: TargetHealthEvent,
    description: "Every change of a target address's health on this node, as it happens.",
    args: { upstream: t.arg.string({ description: "Only this upstream (id or name)." }) },
    subscribe: (_root, { upstream }, ctx) =>
      liveFeed<TargetHealthChange>(ctx.closing, (push) =>
        ctx.admin.upstreamHealth.subscribe((changes) => {
          for (const change of changes)
            if (!upstream || change.upstreamId === upstream || change.upstreamName === upstream) push(change);
        }),
      ),
    resolve: (change) => change,
  }),
);
