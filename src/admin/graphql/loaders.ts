// Per-request caches for links between entities, so a page of 100 routes (or plugins) asking for their
// service reads each service once.
import type { Consumer } from "../../schemas/consumers.ts";
import type { Route } from "../../schemas/routes.ts";
import type { Service } from "../../schemas/services.ts";
import type { EntityRepository } from "../../store/contract.ts";

export class EntityLoader<E> {
  readonly #repo: EntityRepository<E>;
  #cache = new Map<string, Promise<E | null>>();

  constructor(repo: EntityRepository<E>) {
    this.#repo = repo;
  }

  load(id: string): Promise<E | null> {
    let found = this.#cache.get(id);
    if (!found) {
      found = this.#repo.get(id);
      this.#cache.set(id, found);
    }
    return found;
  }

  /** After a write in the same request, later reads must see it. */
  clear(): void {
    this.#cache.clear();
  }
}

export type ServiceLoader = EntityLoader<Service>;
export type RouteLoader = EntityLoader<Route>;
export type ConsumerLoader = EntityLoader<Consumer>;
