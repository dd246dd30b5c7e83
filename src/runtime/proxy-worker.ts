// Entry of a proxy worker thread: one proxy plane on the shared port (SO_REUSEPORT), fed snapshots by the
// main thread, which owns the database, the admin API and everything else of the node.

import { answerCacheCommand } from "../plugins/proxy-cache/commands.ts";
import type { HealthChange, PassiveReport, UnhealthyState } from "../proxy/balancer/health-events.ts";
import type { SnapshotInput } from "../proxy/index.ts";
import type { CacheCommand, CacheReply } from "../schemas/proxy-cache-admin.ts";
import type { RateCounters, RateUsage, RateWindow } from "../schemas/rate-windows.ts";
import { normalJitPolicy } from "./jit-policy.ts";
import { ThreadLogs } from "./node-logs.ts";
import {
  type PlaneMetrics,
  type ProxyPlane,
  type ProxyPlaneOptions,
  type ServedState,
  startLocalPlane,
} from "./proxy-plane.ts";

export type ToWorker =
  | {
      type: "init";
      options: ProxyPlaneOptions;
      counters: SharedArrayBuffer;
      slot: number;
      cluster: boolean;
      /** The node's unhealthy addresses when the worker starts. */
      health: UnhealthyState;
    }
  | { type: "snapshot"; input: SnapshotInput }
  | { type: "took"; id: number; usage: RateUsage | null; error: string | null }
  | { type: "metrics"; id: number }
  | { type: "proxy-cache"; id: number; command: CacheCommand }
  | { type: "reopen-logs" }
  | { type: "health"; changes: readonly HealthChange[] }
  | { type: "stop" };

export type FromWorker =
  | { type: "listening"; ports: readonly number[] }
  | { type: "failed"; message: string }
  | { type: "served"; version: number; faults: ServedState["faults"] }
  | { type: "log"; line: string }
  | { type: "passive"; reports: PassiveReport[] }
  | { type: "take"; id: number; windows: readonly RateWindow[] }
  | { type: "metrics"; id: number; metrics: PlaneMetrics }
  | { type: "proxy-cache"; id: number; reply: CacheReply }
  | { type: "stopped" };

declare const self: Worker;

const PASSIVE_BATCH_MS = 5;

let plane: ProxyPlane | undefined;
let logs: ThreadLogs | undefined;
const send = (message: FromWorker) => self.postMessage(message);

/** rate-limiting's database counters, asked of the main thread (which owns the database). */
class RemoteCounters implements RateCounters {
  #next = 0;
  readonly pending = new Map<number, { resolve(usage: RateUsage): void; reject(error: Error): void }>();

  take(windows: readonly RateWindow[]): Promise<RateUsage> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      send({ type: "take", id, windows });
    });
  }

  settle(message: ToWorker & { type: "took" }): void {
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (message.usage !== null) waiting.resolve(message.usage);
    else waiting.reject(new Error(message.error ?? "the database counters failed"));
  }
}

const remote = new RemoteCounters();

/**
 * Passive health reports go to the node's checker in the main thread, a few milliseconds' worth at a time
 * (balancers send only failures and the first success after one, so steady traffic sends nothing).
 */
let passive: PassiveReport[] = [];
function reportPassive(report: PassiveReport): void {
  passive.push(report);
  if (passive.length > 1) return;
  setTimeout(() => {
    const reports = passive;
    passive = [];
    send({ type: "passive", reports });
  }, PASSIVE_BATCH_MS);
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      try {
        logs = new ThreadLogs(message.options.logs, message.slot + 1, { access: true, adminAccess: false });
        plane = startLocalPlane(
          message.options,
          (line) => send({ type: "log", line }),
          new Float64Array(message.counters, message.slot * 16, 2),
          message.cluster ? remote : null,
          logs,
          reportPassive,
          message.health,
        );
        send({ type: "listening", ports: plane.ports });
      } catch (error) {
        send({ type: "failed", message: (error as Error).message });
      }
      return;
    case "snapshot": {
      if (!plane) return;
      const state = await plane.apply(message.input);
      send({ type: "served", version: state.version, faults: state.faults });
      normalJitPolicy();
      return;
    }
    case "took":
      remote.settle(message);
      return;
    case "metrics": {
      const [metrics] = (await plane?.metrics()) ?? [];
      if (metrics) send({ type: "metrics", id: message.id, metrics });
      return;
    }
    case "proxy-cache":
      // The thread's stores exist whether or not its plane has started: each command acts at once, in
      // message order (only reading a shown entry's body waits).
      send({ type: "proxy-cache", id: message.id, reply: await answerCacheCommand(message.command) });
      return;
    case "reopen-logs":
      logs?.reopen();
      return;
    case "health":
      plane?.applyHealth(message.changes);
      return;
    case "stop":
      await plane?.stop();
      await logs?.close();
      send({ type: "stopped" });
      return;
  }
};
