// Upstream calls waiting for their response headers, watched by one coarse timer per thread instead of a
// setTimeout and an abort listener per request (together most of the per-request timer and abort cost in
// a CPU profile of the proxy). Each tick ends the calls whose deadline passed or whose client went away.
// A deadline therefore fires up to one tick late: timeouts are whole milliseconds in Kong's schema and
// typically seconds, so a 25 ms tick changes nothing a client can tell, and a call that finishes first
// never costs more than an array push and a swap-remove.
//
// An array, each call knowing its slot, rather than a Set: a JSC Set that objects are added to and deleted
// from keeps the deleted ones visible to the next eden collection. Every try's AbortController since the last
// collection was visited again, and JSC's opaque-root count grew by about one per request until the next full
// collection (to ~15,000 at GET 100 B c50), eden collections growing with it (median ~10 ms). With the array
// the count grows only by the calls still in flight, and eden collections stay ~1 ms (bench/README.md,
// "The deadline watch's Set", Nov 30 2026).

/** A call being watched: `end` is called at most once, with why it was ended. */
export type WatchedCall = {
  /** performance.now() after which the call has timed out. */
  deadline: number;
  /** The client's request signal (read at each tick only): a call whose client went away is ended too. */
  client: AbortSignal;
  end(reason: "timeout" | "client-gone"): void;
  /** Where the watch keeps the call: its index while watched, -1 otherwise (the watch sets it). */
  watchSlot: number;
};

/** Ticks with nothing to watch before the timer stops (it restarts with the next call). */
const IDLE_TICKS = 40;

export class DeadlineWatch {
  private readonly calls: WatchedCall[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private idleTicks = 0;

  constructor(
    readonly tickMs = 25,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(call: WatchedCall): void {
    if (call.watchSlot >= 0) return;
    call.watchSlot = this.calls.length;
    this.calls.push(call);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      // Watching never keeps a process alive on its own.
      this.timer.unref();
    }
  }

  /** Stops watching `call` (nothing happens when it is not watched): the last call moves into its slot. */
  delete(call: WatchedCall): void {
    const slot = call.watchSlot;
    if (slot < 0 || this.calls[slot] !== call) return;
    call.watchSlot = -1;
    const last = this.calls.pop()!;
    if (last !== call) {
      this.calls[slot] = last;
      last.watchSlot = slot;
    }
  }

  get size(): number {
    return this.calls.length;
  }

  /** Ends what is due (the timer calls it; tests may too). */
  tick(): void {
    if (this.calls.length === 0) {
      if (++this.idleTicks >= IDLE_TICKS) this.stop();
      return;
    }
    this.idleTicks = 0;
    const now = this.now();
    // Backwards: deleting a call moves the last one, already looked at, into its slot.
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const call = this.calls[i];
      // `end` may have deleted other calls.
      if (call === undefined) continue;
      if (call.client.aborted) {
        this.delete(call);
        call.end("client-gone");
      } else if (now >= call.deadline) {
        this.delete(call);
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
