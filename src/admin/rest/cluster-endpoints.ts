// `GET /clustering/nodes`: every node on this database, Kong-style paginated (cf. Kong's
// `/clustering/data-planes`), with whether each serves the current configuration.
import type { Store } from "../../store/contract.ts";
import { nodePage } from "../cluster-view.ts";
import { json } from "./http.ts";
import { nextLink, parseSize } from "./pagination.ts";
import type { AdminRouter } from "./router.ts";

export function registerClusterEndpoints(router: AdminRouter, store: Store): void {
  router.add("/clustering/nodes", {
    GET: async (_req, _params, url) => {
      const offset = url.searchParams.get("offset") || undefined;
      const page = await nodePage(store, parseSize(url.searchParams.get("size")), offset);
      const body: { data: unknown[]; offset?: string; next: string | null } = { data: page.data, next: null };
      if (page.offset !== null) body.offset = page.offset;
      body.next = nextLink("/clustering/nodes", url, page.offset, true);
      return json(body);
    },
  });
}
