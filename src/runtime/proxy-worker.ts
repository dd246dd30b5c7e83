// Entry of a proxy worker thread: one proxy plane on the shared port (SO_REUSEPORT), fed snapshots by the
// main thread, which owns the database, the admin API and everything else of the node.
import type { SnapshotInput } from "../proxy/index.ts";
import { type ProxyPlane, type ProxyPlaneOptions, type ServedState, startLocalPlane } from "./proxy-plane.ts";

export type ToWorker =
  | { type: "init"; options: ProxyPlaneOptions; counters: SharedArrayBuffer; slot: number }
  | { type: "snapshot"; input: SnapshotInput }
  | { type: "stop" };

export type FromWorker =
  | { type: "listening"; port: number }
  | { type: "failed"; message: string }
  | { type: "served"; version: number; faults: ServedState["faults"] }
  | { type: "log"; line: string }
  | { type: "stopped" };

declare const self: Worker;

let plane: ProxyPlane | undefined;
const send = (message: FromWorker) => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      try {
        plane = startLocalPlane(
          message.options,
          (line) => send({ type: "log", line }),
          new Float64Array(message.counters, message.slot * 16, 2),
        );
        send({ type: "listening", port: plane.port });
      } catch (error) {
        send({ type: "failed", message: (error as Error).message });
      }
      return;
    case "snapshot": {
      if (!plane) return;
      const state = await plane.apply(message.input);
      send({ type: "served", version: state.version, faults: state.faults });
      return;
    }
    case "stop":
      await plane?.stop();
      send({ type: "stopped" });
      return;
  }
};
