// A per-request cache for links between entities, so a page of 100 routes (or plugins) asking for their
// service reads each service once. Any write in the request clears it: later reads must see the write.
import type { EntityName, Store } from "../../store/contract.ts";

export type Row = Record<string, unknown>;

export class EntityLoaders {
  readonly #store: Store;
  readonly #cache = new Map<string, Promise<Row | null>>();

  constructor(store: Store) {
    this.#store = store;
  }

  load(entity: EntityName, id: string): Promise<Row | null> {
    const key = `${entity}/${id}`;
    let found = this.#cache.get(key);
    if (!found) {
      found = this.#store.entity(entity).get(id) as Promise<Row | null>;
      this.#cache.set(key, found);
    }
    return found;
  }

  clear(): void {
    this.#cache.clear();
  }
}
