// Each node records itself in the shared database (Kong's clustering_data_planes): who it is, what it runs,
// which configuration version its proxy serves and when it was last seen — so drift between nodes is visible.
import type { NodeRecord, Store } from "../store/contract.ts";

export const HEARTBEAT_MS = 5000;
/** Kong forgets a data plane after cluster_data_plane_purge_delay: 14 days. */
const PURGE_AFTER_S = 14 * 24 * 3600;

export function startHeartbeat(
  store: Store,
  node: () => NodeRecord,
  onServed: (listener: () => void) => () => void,
): { stop(): Promise<void> } {
  let beating: Promise<void> | undefined;
  let again = false;
  let purgedAt = 0;
  const beat = () => {
    // A beat asked for while one is under way runs right after it, so the last state is always recorded.
    if (beating) {
      again = true;
      return;
    }
    beating = (async () => {
      do {
        again = false;
        try {
          const record = node();
          await store.nodes.heartbeat(record);
          if (record.last_seen - purgedAt > 3600) {
            purgedAt = record.last_seen;
            await store.nodes.purge(record.last_seen - PURGE_AFTER_S);
          }
        } catch {
          // The database is away; the watcher says so once. The next beat records the node again.
        }
      } while (again);
      beating = undefined;
    })();
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  // A new version served is worth telling at once: `GET /clustering/nodes` then shows the node in sync.
  const unsubscribe = onServed(beat);
  return {
    async stop() {
      clearInterval(timer);
      unsubscribe();
      await beating;
    },
  };
}
