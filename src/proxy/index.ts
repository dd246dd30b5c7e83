// The data plane's public face: runtime/ creates one Proxy, feeds it snapshots, and mounts its handlers on
// the proxy listener. Nothing here imports store/, admin/ or runtime/.
import type { Server, WebSocketHandler } from "bun";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";

export { buildSnapshot, type Snapshot, type SnapshotInput } from "./snapshot.ts";

export type ProxyOptions = {
  /** Largest request body accepted (413 above). */
  bodyLimit: number;
};

export type Proxy = {
  fetch(request: Request, server: Server<unknown>): Response | Promise<Response> | undefined;
  websocket: WebSocketHandler<unknown>;
  swap(snapshot: Snapshot): void;
  current(): Snapshot;
};

export function createProxy(_options: ProxyOptions): Proxy {
  let current = buildSnapshot({ version: 0, services: [], routes: [] });
  return {
    fetch: () => Response.json({ message: "no Route matched with those values" }, { status: 404 }),
    websocket: { message() {} },
    swap(snapshot) {
      current = snapshot;
    },
    current: () => current,
  };
}
