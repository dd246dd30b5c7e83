// The node's health checker: one per node (in the main thread), whatever the number of proxy workers. It
// holds every address's health and counters (lua-resty-healthcheck's semantics, as Kong), counts the passive
// reports the planes send, runs the active probes, takes the admin API's manual verdicts, and tells the
// planes (and any subscriber) each time an address changes state.
//
// Counting: a success clears the failure counters, a failure (HTTP status in the unhealthy list, TCP error,
// timeout) clears the successes; reaching a threshold flips the address; 0 disables a threshold; a status in
// neither list changes nothing. Passive reports use the passive thresholds, probes the active ones.
import type { Healthchecks } from "../../schemas/healthchecks.ts";
import { isUsingHealthchecks } from "../../schemas/healthchecks.ts";
import { normalizeTarget, type Target } from "../../schemas/targets.ts";
import type { TargetHealthChange, UpstreamHealthView } from "../../schemas/upstream-health.ts";
import type { Upstream } from "../../schemas/upstreams.ts";
import {
  type AddressSpec,
  literalResolution,
  type Resolution,
  resolveAll,
  type TargetSpec,
  targetSpec,
} from "./addresses.ts";
import {
  type HealthChange,
  type HealthEvent,
  type PassiveReport,
  StatusLists,
  type UnhealthyState,
} from "./health-events.ts";
import { probe } from "./probe.ts";

type Counters = { successes: number; http_failures: number; tcp_failures: number; timeouts: number };

type AddressRecord = Counters & { address: AddressSpec; healthy: boolean };

type Source = TargetHealthChange["source"];

export type HealthListener = (
  changes: readonly HealthChange[],
  detail: readonly TargetHealthChange[],
) => void;

const FAILURE_COUNTER: Record<Exclude<HealthEvent, "success">, Exclude<keyof Counters, "successes">> = {
  http_failure: "http_failures",
  tcp_failure: "tcp_failures",
  timeout: "timeouts",
};

/** One upstream's checks. */
class UpstreamChecks {
  readonly upstream: Upstream;
  readonly checks: Healthchecks;
  readonly using: boolean;
  readonly settings: string;
  /** Settings and targets: an unchanged upstream keeps its checks as they run. */
  readonly fingerprint: string;
  readonly targets: readonly TargetSpec[];
  resolutions: Resolution[] = [];
  readonly records = new Map<string, AddressRecord>();
  readonly #activeLists: StatusLists;
  readonly #timers: Timer[] = [];
  #dnsTimer: Timer | undefined;
  readonly #probing = { healthy: false, unhealthy: false };
  #closed = false;
  readonly #emit: (record: AddressRecord, source: Source) => void;

  constructor(
    upstream: Upstream,
    targets: readonly Target[],
    settings: string,
    fingerprint: string,
    previous: UpstreamChecks | undefined,
    emit: (record: AddressRecord, source: Source) => void,
  ) {
    this.upstream = upstream;
    this.checks = upstream.healthchecks;
    this.using = isUsingHealthchecks(this.checks);
    this.settings = settings;
    this.fingerprint = fingerprint;
    this.targets = targets.map(targetSpec);
    this.#emit = emit;
    const active = this.checks.active;
    this.#activeLists = new StatusLists(active.healthy.http_statuses, active.unhealthy.http_statuses);
    // Same health settings: the addresses keep their state (a target added or removed resets nobody else).
    if (previous !== undefined && previous.settings === settings)
      for (const [key, record] of previous.records) this.records.set(key, record);
  }

  async start(): Promise<void> {
    // IP targets are known at once (the admin API may ask right after a write); names once resolved.
    this.#install(this.targets.filter((t) => !t.named).map(literalResolution), Number.POSITIVE_INFINITY);
    if (this.targets.some((t) => t.named)) await this.#resolve();
    if (this.#closed) return;
    const { healthy, unhealthy } = this.checks.active;
    if (healthy.interval > 0) this.#every(healthy.interval, () => this.#probeRound(true));
    if (unhealthy.interval > 0) this.#every(unhealthy.interval, () => this.#probeRound(false));
  }

  #every(seconds: number, run: () => Promise<void>): void {
    const timer = setInterval(() => {
      run().catch(() => {});
    }, seconds * 1000);
    timer.unref();
    this.#timers.push(timer);
  }

  async #resolve(): Promise<void> {
    const { resolutions, ttl } = await resolveAll(this.targets);
    if (!this.#closed) this.#install(resolutions, ttl);
  }

  #install(resolutions: Resolution[], ttl: number): void {
    this.resolutions = resolutions;
    const keys = new Set<string>();
    for (const resolution of resolutions)
      for (const address of resolution.addresses) {
        keys.add(address.key);
        const record = this.records.get(address.key);
        if (record === undefined)
          this.records.set(address.key, {
            address,
            healthy: true,
            successes: 0,
            http_failures: 0,
            tcp_failures: 0,
            timeouts: 0,
          });
        else record.address = address;
      }
    for (const key of this.records.keys()) if (!keys.has(key)) this.records.delete(key);
    if (Number.isFinite(ttl)) {
      this.#dnsTimer = setTimeout(() => {
        this.#resolve().catch(() => {});
      }, ttl * 1000);
      this.#dnsTimer.unref();
    }
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#dnsTimer);
  }

  /** Probes the healthy (or unhealthy) addresses, `concurrency` at a time; a round still running is not doubled. */
  async #probeRound(healthy: boolean): Promise<void> {
    const kind = healthy ? "healthy" : "unhealthy";
    if (this.#probing[kind]) return;
    this.#probing[kind] = true;
    try {
      const due = [...this.records.values()].filter((r) => r.healthy === healthy && r.address.weight > 0);
      const active = this.checks.active;
      let next = 0;
      const worker = async () => {
        while (next < due.length && !this.#closed) {
          const record = due[next++]!;
          const result = await probe(active, record.address, this.upstream.host_header);
          if (this.#closed) return;
          const event = typeof result === "number" ? this.#activeLists.classify(result) : result;
          if (event !== null) this.count(record, event, "active");
        }
      };
      await Promise.all(Array.from({ length: Math.min(active.concurrency, due.length) }, worker));
    } finally {
      this.#probing[kind] = false;
    }
  }

  /** Counts one observation against the thresholds of its source. */
  count(record: AddressRecord, event: HealthEvent, source: "active" | "passive"): void {
    const config = source === "active" ? this.checks.active : this.checks.passive;
    if (event === "success") {
      record.successes++;
      record.http_failures = 0;
      record.tcp_failures = 0;
      record.timeouts = 0;
      const needed = config.healthy.successes;
      if (!record.healthy && needed > 0 && record.successes >= needed) this.set(record, true, source);
      return;
    }
    const counter = FAILURE_COUNTER[event];
    record[counter]++;
    record.successes = 0;
    const limit = config.unhealthy[counter];
    if (record.healthy && limit > 0 && record[counter] >= limit) this.set(record, false, source);
  }

  set(record: AddressRecord, healthy: boolean, source: Source): void {
    record.successes = 0;
    record.http_failures = 0;
    record.tcp_failures = 0;
    record.timeouts = 0;
    if (record.healthy === healthy) return;
    record.healthy = healthy;
    this.#emit(record, source);
  }

  view(): UpstreamHealthView {
    const byTarget = new Map(this.resolutions.map((r) => [r.target.id, r]));
    return {
      upstreamId: this.upstream.id,
      upstreamName: this.upstream.name,
      usingChecks: this.using,
      threshold: this.checks.threshold,
      targets: this.targets.map((target) => {
        const resolution = byTarget.get(target.id);
        return {
          targetId: target.id,
          target: target.target,
          host: target.host,
          port: target.port,
          weight: target.weight,
          dns: resolution?.dns ?? (target.host.includes(":") ? "AAAA" : "A"),
          resolved: resolution !== undefined && resolution.addresses.length > 0,
          addresses: (resolution?.addresses ?? []).map((address) => ({
            ip: address.ip,
            port: address.port,
            weight: address.weight,
            healthy: this.records.get(address.key)?.healthy ?? true,
          })),
        };
      }),
    };
  }
}

export type ManualResult = "ok" | "no-checker" | "not-found";

export class HealthChecker {
  readonly #upstreams = new Map<string, UpstreamChecks>();
  readonly #listeners = new Set<HealthListener>();
  #pending: HealthChange[] = [];
  #detail: TargetHealthChange[] = [];
  #flushing = false;

  /** Follows the configuration: upstreams whose settings or targets changed are rebuilt. */
  configure(upstreams: readonly Upstream[], targets: readonly Target[]): Promise<void> {
    const byUpstream = new Map<string, Target[]>();
    for (const target of targets) {
      const list = byUpstream.get(target.upstream.id);
      if (list === undefined) byUpstream.set(target.upstream.id, [target]);
      else list.push(target);
    }
    const started: Promise<void>[] = [];
    const seen = new Set<string>();
    for (const upstream of upstreams) {
      seen.add(upstream.id);
      const own = byUpstream.get(upstream.id) ?? [];
      const { created_at: _c, updated_at: _u, tags: _t, ...settings } = upstream;
      const settingsKey = JSON.stringify(settings);
      const full = JSON.stringify([settingsKey, own.map((t) => `${t.id}=${t.target}/${t.weight}`).sort()]);
      const current = this.#upstreams.get(upstream.id);
      if (current !== undefined && current.fingerprint === full) continue;
      current?.close();
      const checks = new UpstreamChecks(upstream, own, settingsKey, full, current, (record, source) =>
        this.#changed(checks, record, source),
      );
      this.#upstreams.set(upstream.id, checks);
      // Addresses that were unhealthy under other settings start healthy again.
      if (current !== undefined && current.settings !== settingsKey)
        for (const record of current.records.values())
          if (!record.healthy) this.#queue(current, record, true, "manual");
      started.push(checks.start());
    }
    for (const [id, checks] of this.#upstreams)
      if (!seen.has(id)) {
        checks.close();
        this.#upstreams.delete(id);
      }
    return Promise.all(started).then(() => {});
  }

  /** A plane's passive report. */
  report(report: PassiveReport): void {
    const checks = this.#upstreams.get(report.upstream);
    const record = checks?.records.get(report.address);
    if (checks === undefined || record === undefined || !checks.using) return;
    checks.count(record, report.event, "passive");
  }

  /** Kong's PUT …/healthy|unhealthy: every address of a target, or the one at `address` (`ip[:port]`). */
  setManual(upstreamId: string, targetId: string, address: string | null, healthy: boolean): ManualResult {
    const checks = this.#upstreams.get(upstreamId);
    if (checks === undefined || !checks.using) return "no-checker";
    const records = [...checks.records.values()].filter(
      (r) =>
        r.address.targetId === targetId &&
        (address === null || normalizeTarget(r.address.ipPort) === address),
    );
    if (records.length === 0) return "not-found";
    for (const record of records) checks.set(record, healthy, "manual");
    return "ok";
  }

  view(upstreamId: string): UpstreamHealthView | null {
    return this.#upstreams.get(upstreamId)?.view() ?? null;
  }

  views(): UpstreamHealthView[] {
    return [...this.#upstreams.values()].map((c) => c.view());
  }

  /** Every unhealthy address, for a plane that starts now. */
  unhealthyState(): UnhealthyState {
    const state: UnhealthyState = {};
    for (const [id, checks] of this.#upstreams) {
      const down = [...checks.records.values()].filter((r) => !r.healthy).map((r) => r.address.key);
      if (down.length > 0) state[id] = down;
    }
    return state;
  }

  subscribe(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stop(): void {
    for (const checks of this.#upstreams.values()) checks.close();
    this.#upstreams.clear();
  }

  #changed(checks: UpstreamChecks, record: AddressRecord, source: Source): void {
    this.#queue(checks, record, record.healthy, source);
  }

  /** Changes go out together at the end of the current task (a round of probes flips several at once). */
  #queue(checks: UpstreamChecks, record: AddressRecord, healthy: boolean, source: Source): void {
    const address = record.address;
    this.#pending.push({ upstream: checks.upstream.id, address: address.key, healthy });
    this.#detail.push({
      upstreamId: checks.upstream.id,
      upstreamName: checks.upstream.name,
      targetId: address.targetId,
      target: address.target,
      address: address.ipPort,
      healthy,
      source,
      at: Date.now(),
    });
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => {
      this.#flushing = false;
      const changes = this.#pending;
      const detail = this.#detail;
      this.#pending = [];
      this.#detail = [];
      for (const listener of this.#listeners) listener(changes, detail);
    });
  }
}
