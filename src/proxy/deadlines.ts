// Upstream calls waiting for their response headers, watched by one coarse timer per thread instead of a
// setTimeout and an abort listener per request (together most of the per-request timer and abort cost in
// a CPU profile of the proxy). Each tick ends the calls whose deadline passed or whose client went away.
// A deadline therefore fires up to one tick late: timeouts are whole milliseconds in Kong's schema and
// typically seconds, so a 25 ms tick changes nothing a client can tell, and a call that finishes first
// never costs more than a Set insert and delete.

/** A call being watched: `end` is called at most once, with why it was ended. */
export type WatchedCall = {
  /** performance.now() after which the call has timed out. */
  deadline: number;
  /** The client's request signal (read at each tick only): a call whose client went away is ended too. */
  client: AbortSignal;
  end(reason: "timeout" | "client-gone"): void;
};

/** Ticks with nothing to watch before the timer stops (it restarts with the next call). */
const IDLE_TICKS = 40;

export class DeadlineWatch {
  private readonly calls = new Set<WatchedCall>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private idleTicks = 0;

  constructor(
    readonly tickMs = 25,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(call: WatchedCall): void {
    this.calls.add(call);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      // Watching never keeps a process alive on its own.
      this.timer.unref();
    }
  }

  delete(call: WatchedCall): void {
    this.calls.delete(call);
  }

  get size(): number {
    return this.calls.size;
  }

  /** Ends what is due (the timer calls it; tests may too). */
  tick(): void {
    if (this.calls.size === 0) {
      if (++this.idleTicks >= IDLE_TICKS) this.stop();
      return;
    }
    this.idleTicks = 0;
    const now = this.now();
    for (const call of this.calls) {
      if (call.client.aborted) {
        this.calls.delete(call);
        call.end("client-gone");
      } else if (now >= call.deadline) {
        this.calls.delete(call);
        call.end("timeout");
      }
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.idleTicks = 0;
  }
}
