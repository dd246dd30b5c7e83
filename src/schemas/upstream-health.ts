// The health of an upstream's targets as the node's checker sees it: what the admin API renders (Kong's
// /upstreams/{u}/health), GraphQL streams and Prometheus exports. Plain data shared by the data plane that
// produces it and the admin layer that renders it.

export type AddressHealthView = { ip: string; port: number; weight: number; healthy: boolean };

export type TargetHealthView = {
  targetId: string;
  /** The stored target, `host:port`. */
  target: string;
  host: string;
  port: number;
  weight: number;
  /** The record type it resolved with (`A`, `AAAA`), or the resolver's error. */
  dns: string;
  /** False when its name did not resolve: Kong's DNS_ERROR. */
  resolved: boolean;
  addresses: AddressHealthView[];
};

export type UpstreamHealthView = {
  upstreamId: string;
  upstreamName: string;
  /** Any active interval or passive unhealthy counter is set (Kong's is_upstream_using_healthcheck). */
  usingChecks: boolean;
  /** healthchecks.threshold: % of the weight that must be healthy. */
  threshold: number;
  targets: TargetHealthView[];
};

/** A change of one address's health, as streamed to subscribers. */
export type TargetHealthChange = {
  upstreamId: string;
  upstreamName: string;
  targetId: string;
  target: string;
  /** `ip:port`. */
  address: string;
  healthy: boolean;
  /** What decided it: `active`, `passive` or `manual`. */
  source: "active" | "passive" | "manual";
  at: number;
};

/** Kong's target health word. */
export type TargetHealthWord = "HEALTHY" | "UNHEALTHY" | "HEALTHCHECKS_OFF" | "DNS_ERROR";

export function targetHealthWord(view: UpstreamHealthView, target: TargetHealthView): TargetHealthWord {
  if (!target.resolved) return "DNS_ERROR";
  if (!view.usingChecks || target.weight === 0) return "HEALTHCHECKS_OFF";
  return target.addresses.some((a) => a.healthy) ? "HEALTHY" : "UNHEALTHY";
}

/** Total, healthy and unhealthy weight of the targets (weight 0 counts nowhere). */
export function weightsOf(targets: readonly TargetHealthView[]): {
  total: number;
  available: number;
  unavailable: number;
} {
  let total = 0;
  let available = 0;
  for (const target of targets)
    for (const address of target.addresses) {
      total += address.weight;
      if (address.healthy) available += address.weight;
    }
  return { total, available, unavailable: total - available };
}

/** Kong's balancer health: the healthy share of the weight exceeds the threshold (no weight: unhealthy). */
export function balancerHealthy(view: UpstreamHealthView): boolean {
  const w = weightsOf(view.targets);
  return w.total > 0 && (w.available * 100) / w.total > view.threshold;
}
