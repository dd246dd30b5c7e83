// N proxy workers on one port: worker threads, each with its own snapshot, sharing the port through
// SO_REUSEPORT (Linux). Threads rather than processes: counters the node must share (local rate limits,
// metrics, traffic) live in SharedArrayBuffers instead of per-request IPC, and the snapshot's entities are
// loaded once by the main thread and posted. A worker that dies is replaced and given the latest snapshot.
import type { Server } from "bun";
import type { SnapshotInput } from "../proxy/index.ts";
import type { CacheReply } from "../schemas/proxy-cache-admin.ts";
import type { RateCounters } from "../schemas/rate-windows.ts";
import type { Listen } from "./config.ts";
import { listen, StartupError } from "./listen.ts";
import type {
  NodeHealth,
  PlaneMetrics,
  ProxyPlane,
  ProxyPlaneOptions,
  ServedState,
  Traffic,
} from "./proxy-plane.ts";
import type { FromWorker, ToWorker } from "./proxy-worker.ts";

/**
 * The worker's entry. From source it sits next to this file; in the compiled binary (where it is a second
 * build entrypoint) everything is one bundle at the root of the entrypoints' common folder, src/, so the
 * worker is `runtime/proxy-worker` beside it. The binary test suite starts workers, so a wrong path fails it.
 */
const WORKER_ENTRY = import.meta.url.endsWith("/worker-plane.ts")
  ? new URL("./proxy-worker.ts", import.meta.url).href
  : new URL("./runtime/proxy-worker.ts", import.meta.url).href;

/**
 * A worker that does not answer a question (its metrics, a proxy-cache command) within this long is left out
 * of the answer. A command still reaches it: messages are handled in order, whenever it gets to them.
 */
const ANSWER_TIMEOUT_MS = 2000;

const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5000;

/** Each proxy listener's port (a reserved one for port 0), held until `release`. */
export type ReservedPorts = { readonly ports: readonly number[]; release(): void };

/**
 * Proxy ports the system picks (port 0), reserved by this thread before any worker starts: a listener of its
 * own on each such address, with SO_REUSEPORT, which the workers then join on the port it got. So the admin
 * API names the ports (`GET /`) without waiting for the workers to evaluate their bundles and bind. The
 * reservation closes as soon as a worker listens; a connection it takes before then (only a client that read
 * the port from the admin API while the proxy was starting can make one) is answered 503. An HTTP/3 listener
 * is left to the first worker: its UDP port is bound beside the TCP one, which a reservation would not hold.
 */
export function reservePorts(listens: readonly Listen[]): ReservedPorts {
  const held: Server<unknown>[] = [];
  const release = () => {
    for (const server of held.splice(0)) void server.stop(true);
  };
  try {
    const ports = listens.map((address) => {
      if (address.port !== 0 || address.http3) return address.port;
      const server = listen("proxy", address, {
        reusePort: true,
        fetch: () => Response.json({ message: "The proxy is starting" }, { status: 503 }),
      });
      held.push(server);
      return server.port!;
    });
    return { ports, release };
  } catch (error) {
    release();
    throw error;
  }
}

type Slot = {
  index: number;
  worker: Worker;
  served: ServedState;
  alive: boolean;
  /** The version of the last snapshot posted to it (a worker that starts is sent the latest once). */
  sent: number;
  stopped?: () => void;
};

export type WorkerControl = {
  /**
   * Resolves once every worker listens (rejects when one cannot): the plane is returned at once, so the
   * admin listener can answer while the workers evaluate their bundles and bind the ports.
   */
  readonly listening: Promise<void>;
  /**
   * Creates the worker threads. Until then the plane holds its ports (reserved) and the latest snapshot for
   * them; the caller starts them once its admin listener is up, because creating the first thread costs this
   * thread milliseconds that the first admin answer would otherwise wait for.
   */
  start(): void;
  readonly count: number;
  /** Ends a worker at once, as a crash would (tests and operators); it is replaced like a crashed one. */
  terminate(index: number): void;
  /** Times a worker was replaced since start. */
  restarts(): number;
};

/**
 * `clusterCounters`: rate-limiting's database counters, which workers reach through this thread; `health`: the
 * node's health checker, which gets the workers' passive reports and whose verdicts every worker is sent;
 * `reserved`: the ports, when the caller reserved them already (it names them before the plane exists).
 */
export function startWorkerPlane(
  options: ProxyPlaneOptions,
  count: number,
  log: (line: string) => void,
  clusterCounters: RateCounters | null,
  health: NodeHealth,
  reserved: ReservedPorts = reservePorts(options.listen),
): ProxyPlane & WorkerControl {
  const counters = new SharedArrayBuffer(count * 16);
  const totals = new Float64Array(counters);
  const listeners = new Set<() => void>();
  const slots: Slot[] = [];
  // Questions to the workers (metrics, proxy-cache commands) and who waits for each answer, by id.
  const waiting = new Map<number, (answer: unknown) => void>();
  let asked = 0;
  let latest: SnapshotInput | undefined;
  let ports: readonly number[] = reserved.ports;
  let stopping = false;
  // Until every worker of the start listens, the plane serves nothing (readiness waits for all of them).
  let started = false;
  let restarts = 0;
  const notify = () => {
    for (const listener of listeners) listener();
  };

  /** A worker's rate-limit step on the database counters, answered by this thread. */
  function answerTake(worker: Worker, id: number, windows: Parameters<RateCounters["take"]>[0]): void {
    const reply = (message: ToWorker) => {
      try {
        worker.postMessage(message);
      } catch {
        // The worker is gone; its request went with it.
      }
    };
    Promise.resolve()
      .then(() => {
        if (clusterCounters === null) throw new Error("no database counters on this node");
        return clusterCounters.take(windows);
      })
      .then(
        (usage) => reply({ type: "took", id, usage, error: null }),
        (error) => reply({ type: "took", id, usage: null, error: (error as Error).message ?? String(error) }),
      );
  }

  /** Starts worker `index`; resolves once it listens (rejects when it cannot). */
  function spawn(index: number): Promise<Slot> {
    const worker = new Worker(WORKER_ENTRY);
    const slot: Slot = { index, worker, served: { version: -1, faults: [] }, alive: true, sent: -1 };
    slots[index] = slot;
    return new Promise<Slot>((resolve, reject) => {
      let listening = false;
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        switch (message.type) {
          case "listening":
            listening = true;
            ports = message.ports;
            reserved.release();
            if (latest && slot.sent !== latest.version) send(slot, latest);
            resolve(slot);
            return;
          case "failed":
            reject(new StartupError(message.message));
            return;
          case "served":
            slot.served = { version: message.version, faults: message.faults };
            notify();
            return;
          case "log":
            log(message.line);
            return;
          case "passive":
            for (const report of message.reports) health.report(report);
            return;
          case "take":
            answerTake(worker, message.id, message.windows);
            return;
          case "metrics":
            waiting.get(message.id)?.(message.metrics);
            return;
          case "proxy-cache":
            waiting.get(message.id)?.(message.reply);
            return;
          case "stopped":
            slot.stopped?.();
            return;
        }
      };
      const died = (reason: string) => {
        if (!slot.alive) return;
        slot.alive = false;
        notify();
        if (!listening) {
          reject(new StartupError(`proxy worker ${index} failed to start: ${reason}`));
          return;
        }
        if (stopping) return;
        restarts++;
        const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(restarts, 6));
        log(`proxy worker ${index} stopped (${reason}); starting a new one in ${delay} ms`);
        setTimeout(() => {
          if (!stopping)
            spawn(index).catch((error) => log(`proxy worker ${index}: ${(error as Error).message}`));
        }, delay);
      };
      worker.addEventListener("error", (event) => died((event as ErrorEvent).message ?? "error"));
      worker.addEventListener("close", () => died("exited"));
      worker.postMessage({
        type: "init",
        options: {
          ...options,
          listen: options.listen.map((l, i) => ({ ...l, port: ports[i] ?? l.port })),
          reusePort: true,
        },
        counters,
        slot: index,
        cluster: clusterCounters !== null,
        health: health.state(),
      } satisfies ToWorker);
    });
  }

  function send(slot: Slot, input: SnapshotInput): void {
    slot.sent = input.version;
    slot.worker.postMessage({ type: "snapshot", input } satisfies ToWorker);
  }

  // One worker after the other, each once the previous one listens: a port still 0 (HTTP/3) is picked by the
  // first and joined by the others, and on a small machine workers evaluating their bundles side by side
  // would take the cores from this thread's admin API while it starts (measured on 2 cores: the first admin
  // answer came later with both started at once).
  let begin!: () => void;
  const begun = new Promise<void>((resolve) => {
    begin = resolve;
  });
  const listening = (async () => {
    await begun;
    if (stopping) return;
    try {
      for (let i = 0; i < count; i++) await spawn(i);
      started = true;
      notify();
    } catch (error) {
      stopping = true;
      reserved.release();
      for (const slot of slots) slot?.worker.terminate();
      notify();
      throw error;
    }
  })();
  // The caller awaits it; this keeps a failure from also being reported as unhandled meanwhile.
  listening.catch(() => {});

  /** Asks every live worker the question `message(id)` and collects the answers that come in time. */
  function askEach<T>(message: (id: number) => ToWorker): Promise<T[]> {
    const answers = slots
      .filter((s) => s.alive)
      .map(
        (slot) =>
          new Promise<T | null>((resolve) => {
            const id = ++asked;
            const timer = setTimeout(() => done(null), ANSWER_TIMEOUT_MS);
            const done = (answer: unknown) => {
              clearTimeout(timer);
              waiting.delete(id);
              resolve(answer as T | null);
            };
            waiting.set(id, done);
            try {
              slot.worker.postMessage(message(id));
            } catch {
              done(null);
            }
          }),
      );
    return Promise.all(answers).then((all) => all.filter((a): a is Awaited<T> => a !== null));
  }

  const served = (): ServedState => {
    if (!started) return { version: -1, faults: [] };
    const live = slots.filter((s) => s.alive);
    if (live.length === 0) return { version: -1, faults: [] };
    const lowest = live.reduce((a, b) => (b.served.version < a.served.version ? b : a));
    return { version: lowest.served.version, faults: live[0]!.served.faults };
  };

  return {
    get port() {
      return ports[0]!;
    },
    get ports() {
      return ports;
    },
    count,
    listening,
    async apply(input) {
      latest = input;
      const target = input.version;
      await new Promise<void>((resolve) => {
        // Workers still starting are sent `latest` once they listen; the build counts once all serve it.
        const check = () => {
          if (stopping || (started && slots.every((s) => !s.alive || s.served.version >= target))) {
            unsubscribe();
            resolve();
          }
        };
        listeners.add(check);
        const unsubscribe = () => listeners.delete(check);
        for (const slot of slots) if (slot.alive) send(slot, input);
        check();
      });
      return served();
    },
    served,
    onServed(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    traffic(): Traffic {
      let total = 0;
      let active = 0;
      for (let i = 0; i < count; i++) {
        total += totals[i * 2]!;
        active += totals[i * 2 + 1]!;
      }
      return { total, active };
    },
    metrics: () => askEach<PlaneMetrics>((id) => ({ type: "metrics", id })),
    proxyCache: (command) => askEach<CacheReply>((id) => ({ type: "proxy-cache", id, command })),
    reopenLogs() {
      for (const slot of slots)
        if (slot.alive) slot.worker.postMessage({ type: "reopen-logs" } satisfies ToWorker);
    },
    applyHealth(changes) {
      for (const slot of slots)
        if (slot.alive) slot.worker.postMessage({ type: "health", changes } satisfies ToWorker);
    },
    terminate(index) {
      slots[index]?.worker.terminate();
    },
    restarts: () => restarts,
    start: () => begin(),
    async stop() {
      stopping = true;
      reserved.release();
      begin();
      notify();
      await Promise.all(
        slots
          .filter((s) => s.alive)
          .map(
            (slot) =>
              new Promise<void>((resolve) => {
                slot.stopped = resolve;
                slot.worker.addEventListener("close", () => resolve());
                slot.worker.postMessage({ type: "stop" } satisfies ToWorker);
              }),
          ),
      );
      for (const slot of slots) slot.worker.terminate();
    },
  };
}
