// A tiny synchronous fan-out of change events. A listener that throws must not break a write that has
// already committed, nor the other listeners.
import type { ChangeEvent } from "./contract.ts";

export class ChangeFeed {
  readonly #listeners = new Set<(event: ChangeEvent) => void>();

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(events: readonly ChangeEvent[]): void {
    for (const event of events)
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          console.error("change listener failed:", error);
        }
      }
  }
}
