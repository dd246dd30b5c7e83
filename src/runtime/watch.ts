// Notices committed changes from anywhere: this node's own writes arrive through the store's feed; another
// node's (or another process's on the same SQLite file) through PostgreSQL NOTIFY / SQLite data_version,
// and, in case a notification is lost or a connection dropped, through a check every second. A database
// outage is logged once when it starts and once when it ends; the proxy keeps serving meanwhile.
import type { Store } from "../store/contract.ts";
import type { SnapshotRebuilder } from "./rebuilder.ts";

export const POLL_MS = 1000;

export type ConfigWatcher = { stop(): void; reachable(): boolean };

export function watchConfiguration(
  store: Store,
  rebuilder: SnapshotRebuilder,
  log: (line: string) => void,
  pollMs = POLL_MS,
): ConfigWatcher {
  let reachable = true;
  /** One check at a time; one asked for during another runs right after it (a NOTIFY is never lost). */
  let checking = false;
  let again: boolean | undefined;
  const check = (full: boolean) => {
    if (checking) {
      again = (again ?? false) || full;
      return;
    }
    checking = true;
    void (async () => {
      let wantFull: boolean | undefined = full;
      while (wantFull !== undefined) {
        try {
          await store.sync();
          // A change the feed could not replay (older than the kept events) still shows in the version.
          if (wantFull && (await store.configVersion()) !== rebuilder.servedVersion()) rebuilder.schedule();
          if (!reachable) log("database reachable again; catching up with the configuration");
          reachable = true;
        } catch (error) {
          if (reachable)
            log(
              `database unreachable (${(error as Error).message}); the proxy keeps serving configuration version ${rebuilder.servedVersion()}`,
            );
          reachable = false;
        }
        wantFull = again;
        again = undefined;
      }
      checking = false;
    })();
  };
  const unwatch = store.watch(() => check(false));
  const timer = setInterval(() => check(true), pollMs);
  return {
    stop() {
      unwatch();
      clearInterval(timer);
    },
    reachable: () => reachable,
  };
}
