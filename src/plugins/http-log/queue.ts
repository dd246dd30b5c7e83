// Kong's plugin queue (kong/tools/queue.lua), per proxy worker: entries are gathered into batches of up to
// max_batch_size, a batch goes out when full or max_coalescing_delay after its first entry, at most one batch
// is in flight (concurrency_limit 1; -1: no limit), and a failed batch is retried with exponential backoff
// (initial_retry_delay doubling up to max_retry_delay) until max_retry_time has passed, then dropped. The
// queue holds at most max_entries entries (and max_bytes bytes): when full, the oldest are dropped, counted
// and reported, so a dead endpoint costs log entries — never memory or proxied traffic.
import type { ErrorLogger } from "../log-levels.ts";
import type { QueueConfig } from "./schema.ts";

/** How often the "queue full" message may repeat while entries keep being dropped. */
const REPORT_EVERY_MS = 10_000;

export class BatchQueue {
  #entries: string[] = [];
  #bytes = 0;
  #inFlight = 0;
  /** When the oldest waiting entry arrived (the coalescing delay counts from it). */
  #oldestAt = 0;
  #timer: Timer | null = null;
  #retryTimers = new Set<Timer>();
  #stopped = false;
  #dropped = 0;
  #reportedAt = 0;
  readonly #config: QueueConfig;
  readonly #send: (batch: readonly string[]) => Promise<void>;
  readonly #log: ErrorLogger;
  readonly #name: string;

  constructor(
    name: string,
    config: QueueConfig,
    send: (batch: readonly string[]) => Promise<void>,
    log: ErrorLogger,
  ) {
    this.#name = name;
    this.#config = config;
    this.#send = send;
    this.#log = log;
  }

  /** Entries dropped so far (queue full, or given up after max_retry_time). */
  get dropped(): number {
    return this.#dropped;
  }

  get waiting(): number {
    return this.#entries.length;
  }

  add(entry: string): void {
    if (this.#stopped) return;
    const { max_entries: maxEntries, max_bytes: maxBytes } = this.#config;
    if (maxBytes !== null && entry.length > maxBytes) {
      this.#drop(1, `entry of ${entry.length} bytes is larger than max_bytes (${maxBytes}), dropped`);
      return;
    }
    let dropping = 0;
    while (
      this.#entries.length - dropping >= maxEntries ||
      (maxBytes !== null && this.#bytes + entry.length > maxBytes)
    ) {
      this.#bytes -= this.#entries[dropping]!.length;
      dropping++;
    }
    if (dropping > 0) {
      this.#entries.splice(0, dropping);
      this.#drop(dropping, "queue full, dropping old entries until processing is successful again");
    }
    if (this.#entries.length === 0) this.#oldestAt = Date.now();
    this.#entries.push(entry);
    this.#bytes += entry.length;
    this.#pump();
  }

  /**
   * Stops taking entries and cancels retries; what waits is sent once, without retries (the configuration
   * changed or the node stops). Resolves when those sends are done.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    const sends: Promise<void>[] = [];
    while (this.#entries.length > 0) {
      const batch = this.#entries.splice(0, this.#config.max_batch_size);
      sends.push(
        this.#send(batch).catch((error) =>
          this.#drop(batch.length, `could not send entries while stopping: ${describe(error)}`),
        ),
      );
    }
    this.#bytes = 0;
    await Promise.all(sends);
  }

  #pump(): void {
    if (this.#stopped) return;
    const { max_batch_size: size, concurrency_limit: concurrency } = this.#config;
    const delayMs = this.#config.max_coalescing_delay * 1000;
    while (this.#entries.length > 0 && (concurrency === -1 || this.#inFlight === 0)) {
      const due = this.#oldestAt + delayMs;
      if (this.#entries.length < size && Date.now() < due) {
        if (this.#timer === null)
          this.#timer = setTimeout(
            () => {
              this.#timer = null;
              this.#pump();
            },
            Math.max(0, due - Date.now()),
          );
        return;
      }
      if (this.#timer !== null) {
        clearTimeout(this.#timer);
        this.#timer = null;
      }
      const batch = this.#entries.splice(0, size);
      for (const entry of batch) this.#bytes -= entry.length;
      this.#oldestAt = Date.now();
      this.#process(batch);
    }
  }

  #process(batch: string[]): void {
    this.#inFlight++;
    const started = Date.now();
    const {
      max_retry_time: maxRetry,
      initial_retry_delay: initial,
      max_retry_delay: maxDelay,
    } = this.#config;
    let delay = initial * 1000;
    const done = () => {
      this.#inFlight--;
      this.#pump();
    };
    const attempt = () => {
      this.#send(batch).then(done, (error) => {
        if (this.#stopped) {
          this.#inFlight--;
          this.#drop(batch.length, `could not send entries while stopping: ${describe(error)}`);
          return;
        }
        if (Date.now() - started + delay > maxRetry * 1000) {
          this.#drop(
            batch.length,
            `could not send entries due to max_retry_time exceeded (${describe(error)}); ${batch.length} queue entries were lost`,
          );
          done();
          return;
        }
        this.#log(
          "warn",
          `${this.#name}: sending entries failed (${describe(error)}), retrying in ${Math.round(delay)} ms`,
        );
        const timer = setTimeout(() => {
          this.#retryTimers.delete(timer);
          attempt();
        }, delay);
        this.#retryTimers.add(timer);
        delay = Math.min(delay * 2, maxDelay * 1000);
      });
    };
    attempt();
  }

  #drop(count: number, why: string): void {
    this.#dropped += count;
    const now = Date.now();
    if (now - this.#reportedAt < REPORT_EVERY_MS && why.startsWith("queue full")) return;
    if (why.startsWith("queue full")) this.#reportedAt = now;
    this.#log("error", `${this.#name}: ${why} (${this.#dropped} entries dropped in all)`);
  }
}

function describe(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}
