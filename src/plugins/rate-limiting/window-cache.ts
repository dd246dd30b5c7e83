// Fixed windows change only when a second starts (every period's start is a whole second, and Kong's clock
// is whole seconds), so a plugin instance builds an identifier's windows once per second and hands the same
// frozen list to every request of that second; counters can then remember what they derive from a window
// (its hashed key) by the window itself. Sliding windows depend on the exact time and are not cached.
import type { RateWindow } from "../../schemas/rate-windows.ts";

/** Identifiers kept for one second before the cache starts over (many clients in one second). */
export const MAX_IDENTIFIERS = 10_000;

export class FixedWindowCache {
  #second = Number.NaN;
  readonly #byIdentifier = new Map<string, readonly RateWindow[]>();
  readonly #build: (identifier: string, now: number) => RateWindow[];
  readonly #max: number;

  /** @param build the windows of `identifier` at `now` (whole seconds, epoch ms) */
  constructor(build: (identifier: string, now: number) => RateWindow[], max = MAX_IDENTIFIERS) {
    this.#build = build;
    this.#max = max;
  }

  /** The windows of `identifier` at `now` (whole seconds, epoch ms): built on the first request of a second. */
  get(identifier: string, now: number): readonly RateWindow[] {
    if (now !== this.#second) {
      this.#second = now;
      this.#byIdentifier.clear();
    }
    let windows = this.#byIdentifier.get(identifier);
    if (windows === undefined) {
      if (this.#byIdentifier.size >= this.#max) this.#byIdentifier.clear();
      windows = Object.freeze(this.#build(identifier, now).map((w) => Object.freeze(w)));
      this.#byIdentifier.set(identifier, windows);
    }
    return windows;
  }
}
