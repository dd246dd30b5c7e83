// Kong's health endpoints of upstreams (kong/api/routes/upstreams.lua), from this node's health checker:
//   GET /upstreams/{u}/health                         targets (newest first) with `health` and `data`
//   GET /upstreams/{u}/health?balancer_health=1        the balancer as a whole
//   PUT /upstreams/{u}/targets/{t}[/{address}]/healthy|unhealthy   manual verdicts → 204
import { isUsingHealthchecks } from "../../schemas/healthchecks.ts";
import { normalizeTarget, type Target } from "../../schemas/targets.ts";
import {
  balancerHealthy,
  type TargetHealthView,
  targetHealthWord,
  type UpstreamHealthView,
  weightsOf,
} from "../../schemas/upstream-health.ts";
import type { Upstream } from "../../schemas/upstreams.ts";
import type { AdminContext } from "../context.ts";
import { escaped } from "./crud.ts";
import { HttpError, json, noContent, notFound } from "./http.ts";
import type { AdminRouter, Params } from "./router.ts";
import { pageTargets, targetOf, upstreamOf } from "./upstream-endpoints.ts";

/** The checker's view, or an empty one before it has seen the upstream (just created on another node). */
function viewOf(context: AdminContext, upstream: Upstream): UpstreamHealthView {
  return (
    context.upstreamHealth.view(upstream.id) ?? {
      upstreamId: upstream.id,
      upstreamName: upstream.name,
      usingChecks: isUsingHealthchecks(upstream.healthchecks),
      threshold: upstream.healthchecks.threshold,
      targets: [],
    }
  );
}

/** Kong's per-target status (balancer getTargetStatus): host, port, dns, weights and addresses. */
function targetData(view: UpstreamHealthView, target: TargetHealthView) {
  const checked = view.usingChecks && target.weight > 0;
  const weights = weightsOf([
    { ...target, addresses: target.addresses.map((a) => ({ ...a, healthy: a.healthy || !checked })) },
  ]);
  return {
    host: target.host,
    port: target.port,
    dns: target.dns,
    nodeWeight: weights.total,
    weight: weights,
    addresses: target.addresses.map((a) => ({
      ip: a.ip,
      port: a.port,
      weight: a.weight,
      health: checked ? (a.healthy ? "HEALTHY" : "UNHEALTHY") : "HEALTHCHECKS_OFF",
    })),
  };
}

function withHealth(view: UpstreamHealthView, target: Target) {
  const seen = view.targets.find((t) => t.targetId === target.id);
  if (seen === undefined) return { ...target, health: "DNS_ERROR" };
  return { ...target, health: targetHealthWord(view, seen), data: targetData(view, seen) };
}

function balancerHealth(view: UpstreamHealthView) {
  const hosts = view.targets.filter((t) => t.weight > 0).map((t) => targetData(view, t));
  const total = hosts.reduce((sum, h) => sum + h.weight.total, 0);
  const available = hosts.reduce((sum, h) => sum + h.weight.available, 0);
  const healthy = view.usingChecks ? balancerHealthy(view) : total > 0;
  return {
    health: view.usingChecks ? (healthy ? "HEALTHY" : "UNHEALTHY") : "HEALTHCHECKS_OFF",
    balancer_health: healthy ? "HEALTHY" : "UNHEALTHY",
    id: view.upstreamId,
    details: { healthy, weight: { total, available, unavailable: total - available }, hosts },
  };
}

export function registerUpstreamHealthEndpoints(router: AdminRouter, context: AdminContext): void {
  const { store } = context;
  const nodeId = context.node.node_id;

  router.add("/upstreams/:parent/health", {
    GET: async (_req, params, url) => {
      const upstream = await upstreamOf(store, params);
      const view = viewOf(context, upstream);
      const flag = url.searchParams.get("balancer_health");
      if (flag !== null && flag !== "0" && flag !== "false")
        return json({ data: balancerHealth(view), next: null, node_id: nodeId });
      const page = await pageTargets(store, upstream.id, url);
      const body: Record<string, unknown> = { data: page.data.map((t) => withHealth(view, t)) };
      if (page.offset !== null) body.offset = page.offset;
      body.next =
        page.offset === null ? null : `/upstreams/${escaped(upstream.id)}/health?offset=${page.offset}`;
      body.node_id = nodeId;
      return json(body);
    },
  });

  const set = (healthy: boolean) => async (_req: Request, params: Params) => {
    const { upstream, target } = await targetOf(store, params);
    let address: string | null = null;
    if (params.address !== undefined) {
      address = normalizeTarget(params.address);
      if (address === null) throw notFound();
    }
    switch (context.upstreamHealth.set(upstream.id, target.id, address, healthy)) {
      case "no-checker":
        throw new HttpError(400, `no healthchecker found for ${upstream.name}`);
      case "not-found":
        throw notFound();
      case "ok":
        return noContent();
    }
  };
  router.add("/upstreams/:parent/targets/:key/healthy", { PUT: set(true) });
  router.add("/upstreams/:parent/targets/:key/unhealthy", { PUT: set(false) });
  router.add("/upstreams/:parent/targets/:key/:address/healthy", { PUT: set(true) });
  router.add("/upstreams/:parent/targets/:key/:address/unhealthy", { PUT: set(false) });
}
