// Subscriptions as async iterators over the gateway's feeds. Each one ends when its client leaves or when
// the gateway shuts down (an open subscription would otherwise hold a graceful stop forever), and buffers
// a bounded number of events for a client that reads slowly.
import { Repeater, SlidingBuffer } from "graphql-yoga";

/** Events kept for a client that does not read; past this the oldest are dropped (versions show the gap). */
export const LIVE_BUFFER = 1000;

export function liveFeed<T>(
  closing: AbortSignal,
  attach: (push: (value: T) => void) => () => void,
): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    const detach = attach((value) => {
      void push(value);
    });
    const end = () => stop();
    closing.addEventListener("abort", end, { once: true });
    if (closing.aborted) stop();
    await stop;
    closing.removeEventListener("abort", end);
    detach();
  }, new SlidingBuffer(LIVE_BUFFER));
}
