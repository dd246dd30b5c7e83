// /metrics for the node: the per-request series every proxy worker recorded (summed), plus the node-level
// gauges Kong always exports — node info, requests and connections, database reachability, each worker's
// heap, and the memory shared by the workers (the rate-limit counters, Kong's kong_rate_limiting_counters).
import type { TrafficCounts } from "../admin/context.ts";
import { type GaugeSample, mergeSnapshots, renderMetrics } from "../plugins/metrics.ts";
import {
  CONNECTIONS,
  DATASTORE_REACHABLE,
  KONG_FAMILIES,
  NODE_INFO,
  REQUESTS,
  SHARED_DICT,
  SHARED_DICT_TOTAL,
  UPSTREAM_TARGET_HEALTH,
  WORKER_MEMORY,
} from "../plugins/prometheus/families.ts";
import { SharedCounters } from "../plugins/rate-counters.ts";
import type { UpstreamHealthView } from "../schemas/upstream-health.ts";
import type { Store } from "../store/contract.ts";
import type { ProxyPlane } from "./proxy-plane.ts";

export type NodeMetricsSources = {
  nodeId: string;
  version: string;
  plane: ProxyPlane;
  store: Store;
  traffic(): TrafficCounts;
  rateCounters: SharedCounters;
  /** The health of every upstream's targets, when a prometheus plugin asks for it (upstream_health_metrics). */
  upstreamHealth(): readonly UpstreamHealthView[] | null;
};

const TARGET_STATES = ["healthchecks_off", "healthy", "unhealthy", "dns_error"] as const;

/** Kong's kong_upstream_target_health: every state of every address, 1 on the one it is in. */
function targetHealthGauges(views: readonly UpstreamHealthView[]): GaugeSample[] {
  const gauges: GaugeSample[] = [];
  const push = (upstream: string, target: string, address: string, state: string) => {
    for (const s of TARGET_STATES)
      gauges.push({
        family: UPSTREAM_TARGET_HEALTH,
        labels: [upstream, target, address, s, HTTP],
        value: s === state ? 1 : 0,
      });
  };
  for (const view of views)
    for (const target of view.targets) {
      if (!target.resolved) {
        push(view.upstreamName, target.target, "", "dns_error");
        continue;
      }
      const checked = view.usingChecks && target.weight > 0;
      for (const a of target.addresses)
        push(
          view.upstreamName,
          target.target,
          `${a.ip.includes(":") ? `[${a.ip}]` : a.ip}:${a.port}`,
          checked ? (a.healthy ? "healthy" : "unhealthy") : "healthchecks_off",
        );
    }
  return gauges;
}

const HTTP = "http";

export function nodeMetrics(sources: NodeMetricsSources): () => Promise<string> {
  const { nodeId, plane, store } = sources;
  return async () => {
    const [planes, reachable] = await Promise.all([plane.metrics(), store.ping()]);
    const traffic = sources.traffic();
    const total = traffic.total.proxy + traffic.total.admin;
    // As nginx's count of active connections, the scrape's own is one of them (traffic() leaves it out).
    const active = traffic.active.proxy + traffic.active.admin + 1;
    const counters = sources.rateCounters;
    const gauges: GaugeSample[] = [
      { family: NODE_INFO, labels: [nodeId, sources.version], value: 1 },
      { family: CONNECTIONS, labels: [nodeId, HTTP, "active"], value: active },
      { family: CONNECTIONS, labels: [nodeId, HTTP, "total"], value: total },
      { family: REQUESTS, labels: [nodeId, HTTP], value: total },
      { family: DATASTORE_REACHABLE, labels: [], value: reachable ? 1 : 0 },
      // Worker threads share the process id: a worker is `<pid>` alone, or `<pid>:<worker>`.
      ...planes.map((p, i) => ({
        family: WORKER_MEMORY,
        labels: [nodeId, planes.length === 1 ? String(process.pid) : `${process.pid}:${i}`, HTTP],
        value: p.heapUsed,
      })),
      {
        family: SHARED_DICT,
        labels: [nodeId, "kong_rate_limiting_counters", HTTP],
        value: counters.size * SharedCounters.SLOT_BYTES,
      },
      {
        family: SHARED_DICT_TOTAL,
        labels: [nodeId, "kong_rate_limiting_counters", HTTP],
        value: counters.buffer.byteLength,
      },
      ...targetHealthGauges(sources.upstreamHealth() ?? []),
    ];
    return renderMetrics(KONG_FAMILIES, gauges, mergeSnapshots(planes.map((p) => p.series)));
  };
}
