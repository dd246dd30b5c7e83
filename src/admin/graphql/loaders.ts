// Per-request caches for links between entities, so a page of 100 routes asking for their service reads
// each service once.
import type { Service } from "../../schemas/services.ts";
import type { Store } from "../../store/repository.ts";

export class ServiceLoader {
  readonly #store: Store;
  #cache = new Map<string, Promise<Service | null>>();

  constructor(store: Store) {
    this.#store = store;
  }

  load(id: string): Promise<Service | null> {
    let found = this.#cache.get(id);
    if (!found) {
      found = this.#store.services.get(id);
      this.#cache.set(id, found);
    }
    return found;
  }

  /** After a write in the same request, later reads must see it. */
  clear(): void {
    this.#cache.clear();
  }
}
