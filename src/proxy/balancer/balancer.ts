// One upstream's balancer in one proxy plane: its targets' addresses (resolved off the request path), the
// algorithm's state (round-robin scores, the hash ring, connection counts, latency averages) and each
// address's health as the node's checker last reported it. Built when a snapshot first needs it and kept
// across snapshots while the upstream and its targets do not change (balancer-pool.ts).
import type { Upstream } from "../../schemas/upstreams.ts";
import {
  type AddressSpec,
  literalResolution,
  type Resolution,
  resolveAll,
  type TargetSpec,
} from "./addresses.ts";
import { type HashSpec, hashSpec } from "./hash-key.ts";
import { HashRing } from "./hash-ring.ts";
import { type HealthEvent, type HealthSink, passiveEnabled, StatusLists } from "./health-events.ts";
import { nextSmooth } from "./round-robin.ts";

/** An address as requests use it. */
export type Peer = AddressSpec & {
  healthy: boolean;
  /** Requests waiting for this address's response headers (least-connections). */
  active: number;
  /** Smooth round-robin score. */
  score: number;
  /** Latency EWMA in ms (latency algorithm); -1 before the first sample. */
  ewma: number;
  ewmaAt: number;
  /** The last passive event sent for it: repeated successes are not sent again. */
  lastReport: HealthEvent | null;
  /** Host header for http (port omitted when 80) and https (when 443) services, unless host_header is set. */
  hostHttp: string;
  hostHttps: string;
};

/** Latency EWMA decay (Kong's 10 s). */
const DECAY_MS = 10_000;

function hostHeaderFor(hostname: string, port: number, defaultPort: number, named: boolean): string {
  const host = named || !hostname.includes(":") ? hostname : `[${hostname}]`;
  return port === defaultPort ? host : `${host}:${port}`;
}

export class Balancer {
  readonly upstream: Upstream;
  readonly fingerprint: string;
  readonly hash: HashSpec | null;
  /** Resolves once the targets' addresses are known (null when they already are). */
  pending: Promise<void> | null;
  #peers: Peer[] = [];
  #ring: HashRing<Peer> | null = null;
  #resolutions: Resolution[] = [];
  readonly #targets: readonly TargetSpec[];
  readonly #unhealthy: Set<string>;
  readonly #sink: HealthSink | null;
  readonly #passive: StatusLists | null;
  #timer: Timer | undefined;
  #closed = false;

  /**
   * `unhealthy`: the pool's live set of this upstream's unhealthy address keys; `sink`: where passive reports
   * go (null: passive checks are off for it).
   */
  constructor(
    upstream: Upstream,
    targets: readonly TargetSpec[],
    fingerprint: string,
    unhealthy: Set<string>,
    sink: HealthSink | null,
  ) {
    this.upstream = upstream;
    this.fingerprint = fingerprint;
    this.#targets = targets.filter((t) => t.weight > 0);
    this.#unhealthy = unhealthy;
    this.hash = upstream.algorithm === "consistent-hashing" ? hashSpec(upstream) : null;
    const passive = upstream.healthchecks.passive;
    this.#passive =
      sink !== null && passiveEnabled(upstream.healthchecks)
        ? new StatusLists(passive.healthy.http_statuses, passive.unhealthy.http_statuses)
        : null;
    this.#sink = this.#passive === null ? null : sink;
    // Targets that are all IP addresses are known at once; names wait for their first DNS answer.
    if (this.#targets.every((t) => !t.named)) {
      this.#install(this.#targets.map(literalResolution), Number.POSITIVE_INFINITY);
      this.pending = null;
    } else
      this.pending = this.#resolve().finally(() => {
        this.pending = null;
      });
  }

  /** Stops refreshing DNS; requests still holding it may keep picking. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  get resolutions(): readonly Resolution[] {
    return this.#resolutions;
  }

  async #resolve(): Promise<void> {
    const { resolutions, ttl } = await resolveAll(this.#targets);
    if (!this.#closed) this.#install(resolutions, ttl);
  }

  #install(resolutions: Resolution[], ttl: number): void {
    const previous = new Map(this.#peers.map((p) => [p.key, p]));
    const peers: Peer[] = [];
    for (const resolution of resolutions)
      for (const address of resolution.addresses)
        peers.push(previous.get(address.key) ?? this.#peer(address));
    for (const peer of peers) peer.healthy = !this.#unhealthy.has(peer.key);
    this.#resolutions = resolutions;
    this.#peers = peers;
    if (this.hash !== null) this.#ring = new HashRing(peers, this.upstream.slots);
    if (Number.isFinite(ttl))
      this.#timer = setTimeout(() => {
        this.#resolve().catch(() => {});
      }, ttl * 1000);
    this.#timer?.unref();
  }

  #peer(address: AddressSpec): Peer {
    const named = !/^[\d.]+$/.test(address.hostname) && !address.hostname.includes(":");
    return {
      ...address,
      healthy: true,
      active: 0,
      score: 0,
      ewma: -1,
      ewmaAt: 0,
      lastReport: null,
      hostHttp: hostHeaderFor(address.hostname, address.port, 80, named),
      hostHttps: hostHeaderFor(address.hostname, address.port, 443, named),
    };
  }

  /** The checker's verdict on an address of this upstream. */
  setHealth(key: string, healthy: boolean): void {
    for (const peer of this.#peers) if (peer.key === key) peer.healthy = healthy;
  }

  /** Kong's balancer health: the healthy share of the weight must exceed the threshold. */
  #healthyEnough(): boolean {
    const threshold = this.upstream.healthchecks.threshold;
    if (threshold === 0) return true;
    let total = 0;
    let available = 0;
    for (const peer of this.#peers) {
      total += peer.weight;
      if (peer.healthy) available += peer.weight;
    }
    return total > 0 && (available * 100) / total > threshold;
  }

  /**
   * The address for the next try of a request, or null: no healthy address left (or the balancer is below
   * its threshold). `tried` holds the addresses this request already failed on; `key` is its hash input.
   */
  pick(key: string, tried: ReadonlySet<Peer> | null): Peer | null {
    if (!this.#healthyEnough()) return null;
    const usable = tried === null ? isHealthy : (p: Peer) => p.healthy && !tried.has(p);
    let peer: Peer | null;
    switch (this.upstream.algorithm) {
      case "consistent-hashing":
        peer = this.#ring?.pick(key, usable) ?? null;
        break;
      case "least-connections":
        peer = this.#leastBy((p) => (p.active + 1) / p.weight, usable);
        break;
      case "latency":
        peer = this.#leastBy((p) => (this.#latency(p) + 1) / p.weight, usable);
        break;
      default:
        peer = nextSmooth(this.#peers, usable);
    }
    if (peer !== null) peer.active++;
    return peer;
  }

  /** The lowest `cost`, ties shared out by weighted round-robin. */
  #leastBy(cost: (p: Peer) => number, usable: (p: Peer) => boolean): Peer | null {
    let best = Number.POSITIVE_INFINITY;
    for (const peer of this.#peers) if (usable(peer)) best = Math.min(best, cost(peer));
    if (best === Number.POSITIVE_INFINITY) return null;
    return nextSmooth(this.#peers, (p) => usable(p) && cost(p) === best);
  }

  /** An address never measured starts at the average of the others (Kong's slow start). */
  #latency(peer: Peer): number {
    if (peer.ewma >= 0) return peer.ewma;
    let sum = 0;
    let count = 0;
    for (const p of this.#peers)
      if (p.ewma >= 0) {
        sum += p.ewma;
        count++;
      }
    return count === 0 ? 0 : sum / count;
  }

  /**
   * A try on `peer` ended: with response headers (`status`), or a connection failure or timeout. Releases
   * its connection count, feeds the latency average and the passive health checks.
   */
  done(peer: Peer, status: number | null, failure: "refused" | "timeout" | null, startedAt: number): void {
    peer.active--;
    if (this.upstream.algorithm === "latency" && status !== null) {
      const now = performance.now();
      const rtt = now - startedAt;
      if (peer.ewma < 0) peer.ewma = rtt;
      else {
        const weight = Math.exp(-(now - peer.ewmaAt) / DECAY_MS);
        peer.ewma = peer.ewma * weight + rtt * (1 - weight);
      }
      peer.ewmaAt = now;
    }
    if (this.#sink === null) return;
    const event: HealthEvent | null =
      status !== null
        ? this.#passive!.classify(status)
        : failure === "timeout"
          ? "timeout"
          : failure === "refused"
            ? "tcp_failure"
            : null;
    if (event === null || (event === "success" && peer.lastReport === "success")) return;
    peer.lastReport = event;
    this.#sink({ upstream: this.upstream.id, address: peer.key, event });
  }
}

const isHealthy = (p: Peer) => p.healthy;
