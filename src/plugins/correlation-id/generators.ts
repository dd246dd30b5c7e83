// Correlation id generators (kong/plugins/correlation-id/handler.lua). Their state is module state, so it is
// per worker thread (each thread evaluates its own copy of this module), as Kong's is per nginx worker: the
// `uuid#counter` form is this worker's own UUID and counter, so two workers never produce the same id.

let workerUuid: string | null = null;
let counter = 0;
/** Requests this worker gave a tracker id (stands in for nginx's connection serial and request count). */
let tracked = 0;

export type Generator = (url: string) => string;

/** This thread's id; node:worker_threads is loaded on first use (a static import costs every start-up). */
let threadId: number | undefined;
const threadIdOf = () => {
  threadId ??= process.getBuiltinModule("node:worker_threads").threadId;
  return threadId;
};

export const GENERATE: Readonly<Record<"uuid" | "uuid#counter" | "tracker", Generator>> = {
  uuid: () => crypto.randomUUID(),
  "uuid#counter": () => {
    workerUuid ??= crypto.randomUUID();
    counter++;
    return `${workerUuid}#${counter}`;
  },
  // Kong: server address, port, worker pid, connection serial, requests on it, time (seconds, 3 decimals).
  // Bun shows neither the connection serial nor the local address: the address and port the request was
  // sent to, the worker thread's id and its own request count take their place.
  tracker: (url) => {
    const { hostname, port } = new URL(url);
    tracked++;
    return `${hostname}-${port}-${process.pid}-${threadIdOf()}-${tracked}-${(Date.now() / 1000).toFixed(3)}`;
  },
};
