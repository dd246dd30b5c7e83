// Kong's proxy-cache purge reaches every node of a cluster (its "proxy-cache:purge" cluster event): a purge or
// flush run on this node's workers is stored for the other nodes, and theirs run here when the store reads
// them (at once on PostgreSQL's notification, else within the watcher's one-second check).
import { type CacheCommand, type CacheReply, cachePurgeSchema } from "../schemas/proxy-cache-admin.ts";
import type { Store } from "../store/contract.ts";

export const PURGE_CHANNEL = "proxy-cache:purge";

/** `run` is the node's own command (every worker); returns it wrapped so that purges go to every node too. */
export function clusterWideProxyCache(
  store: Store,
  run: (command: CacheCommand) => Promise<CacheReply[]>,
  log: (line: string) => void,
): (command: CacheCommand) => Promise<CacheReply[]> {
  store.onBroadcast((channel, data) => {
    if (channel !== PURGE_CHANNEL) return;
    let command: CacheCommand;
    try {
      command = cachePurgeSchema().parse(JSON.parse(data));
    } catch {
      log(`proxy-cache: ignored a malformed purge from another node: ${data.slice(0, 200)}`);
      return;
    }
    run(command).catch((error) =>
      log(`proxy-cache: another node's purge failed here: ${(error as Error).message}`),
    );
  });
  return async (command) => {
    const replies = await run(command);
    if (command.op !== "fetch")
      // As Kong: the purge here stands, a failed broadcast is logged.
      await store
        .broadcast(PURGE_CHANNEL, JSON.stringify(command))
        .catch((error) =>
          log(`proxy-cache: failed broadcasting the purge to the other nodes: ${(error as Error).message}`),
        );
    return replies;
  };
}
