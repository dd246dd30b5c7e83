// The nodes sharing this configuration as the admin API shows them (REST `/clustering/nodes`, GraphQL
// `nodes`): what each reported, and whether it is in sync — so drift between nodes is visible.
import type { NodeRecord, Store } from "../store/contract.ts";

/** A node that has not reported for this long is shown as stale (it heartbeats every 5 s). */
export const STALE_AFTER_S = 15;

export type NodeView = NodeRecord & {
  /** Serves the configuration version the database holds now. */
  in_sync: boolean;
  /** Has not reported within STALE_AFTER_S: stopped, or cut off from the database. */
  stale: boolean;
};

export async function nodePage(
  store: Store,
  size: number,
  offset: string | undefined,
): Promise<{ data: NodeView[]; offset: string | null }> {
  const [page, current] = await Promise.all([store.nodes.page({ size, offset }), store.configVersion()]);
  const now = Math.floor(Date.now() / 1000);
  return {
    data: page.data.map((node) => ({
      ...node,
      in_sync: node.config_version === current,
      stale: now - node.last_seen > STALE_AFTER_S,
    })),
    offset: page.offset,
  };
}
