// What flows between the data plane and the node's health checker: passive reports (what proxied traffic
// showed about an address) go to the checker; health changes (an address turned healthy or unhealthy) come
// back to every proxy plane of the node.
import type { Healthchecks } from "../../schemas/healthchecks.ts";

/** One observation about an address: counted by the checker against the thresholds. */
export type HealthEvent = "success" | "http_failure" | "tcp_failure" | "timeout";

export type PassiveReport = { upstream: string; address: string; event: HealthEvent };

export type HealthChange = { upstream: string; address: string; healthy: boolean };

/** Where a plane sends its passive reports (the checker itself, or a worker's batch to the main thread). */
export type HealthSink = (report: PassiveReport) => void;

/** Unhealthy address keys per upstream id: the whole state, for a plane that starts late. */
export type UnhealthyState = Record<string, string[]>;

/** Kong's passive checks count something only when an unhealthy counter is set (healthy alone never acts). */
export function passiveEnabled(checks: Healthchecks): boolean {
  const u = checks.passive.unhealthy;
  return u.http_failures !== 0 || u.tcp_failures !== 0 || u.timeouts !== 0;
}

/** Classifies an HTTP status by a check's lists; a status in neither list counts for nothing. */
export class StatusLists {
  readonly #healthy: Set<number>;
  readonly #unhealthy: Set<number>;

  constructor(healthy: readonly number[], unhealthy: readonly number[]) {
    this.#healthy = new Set(healthy);
    this.#unhealthy = new Set(unhealthy);
  }

  classify(status: number): HealthEvent | null {
    if (this.#healthy.has(status)) return "success";
    if (this.#unhealthy.has(status)) return "http_failure";
    return null;
  }
}
