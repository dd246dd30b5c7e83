// A proxy plane's balancers, one per upstream, kept across snapshots: a snapshot build asks for the balancer
// of each upstream a service points at and gets the existing one when the upstream and its targets are
// unchanged (round-robin position, connection counts, latency averages and DNS answers survive a route
// edit). Health verdicts from the node's checker land here, in every balancer of the upstream.
import type { Target } from "../../schemas/targets.ts";
import type { Upstream } from "../../schemas/upstreams.ts";
import { type TargetSpec, targetSpec } from "./addresses.ts";
import { Balancer } from "./balancer.ts";
import type { HealthChange, HealthSink, UnhealthyState } from "./health-events.ts";

/** What decides whether a balancer can be kept: the upstream's settings and its targets. */
function fingerprint(upstream: Upstream, targets: readonly TargetSpec[]): string {
  const { created_at: _c, updated_at: _u, tags: _t, ...settings } = upstream;
  const list = targets.map((t) => `${t.id}=${t.target}/${t.weight}`).sort();
  return JSON.stringify([settings, list]);
}

export class BalancerPool {
  readonly #live = new Map<string, Balancer>();
  readonly #unhealthy = new Map<string, Set<string>>();
  readonly #sink: HealthSink | null;

  /** `sink`: where passive reports go; null when nothing checks health (a standalone snapshot). */
  constructor(sink: HealthSink | null) {
    this.#sink = sink;
  }

  /** The balancer for `upstream` with `targets` (kept when unchanged, replaced otherwise). */
  balancerFor(upstream: Upstream, targets: readonly Target[]): Balancer {
    const specs = targets.map(targetSpec);
    const print = fingerprint(upstream, specs);
    const current = this.#live.get(upstream.id);
    if (current !== undefined && current.fingerprint === print) return current;
    current?.close();
    const balancer = new Balancer(upstream, specs, print, this.#unhealthyOf(upstream.id), this.#sink);
    this.#live.set(upstream.id, balancer);
    return balancer;
  }

  #unhealthyOf(upstream: string): Set<string> {
    let set = this.#unhealthy.get(upstream);
    if (set === undefined) {
      set = new Set();
      this.#unhealthy.set(upstream, set);
    }
    return set;
  }

  /** After a build: balancers of upstreams no snapshot uses any more stop refreshing DNS. */
  retainOnly(ids: ReadonlySet<string>): void {
    for (const [id, balancer] of this.#live)
      if (!ids.has(id)) {
        balancer.close();
        this.#live.delete(id);
      }
  }

  applyHealth(changes: readonly HealthChange[]): void {
    for (const change of changes) {
      const set = this.#unhealthyOf(change.upstream);
      if (change.healthy) set.delete(change.address);
      else set.add(change.address);
      this.#live.get(change.upstream)?.setHealth(change.address, change.healthy);
    }
  }

  /** The checker's whole state (a plane that starts after some verdicts). */
  replaceHealth(state: UnhealthyState): void {
    const changes: HealthChange[] = [];
    for (const [upstream, set] of this.#unhealthy)
      for (const address of set) changes.push({ upstream, address, healthy: true });
    for (const [upstream, addresses] of Object.entries(state))
      for (const address of addresses) changes.push({ upstream, address, healthy: false });
    this.applyHealth(changes);
  }

  close(): void {
    for (const balancer of this.#live.values()) balancer.close();
    this.#live.clear();
  }
}
