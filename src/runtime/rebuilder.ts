// Rebuilds the proxy's snapshot when the configuration moves, off the request path. Writes arriving during a
// build coalesce into one more build; a failed load keeps the previous snapshot serving and is logged; what
// one entity cannot build is a fault, reported once.
import type { ConfigFault, SnapshotEntities, SnapshotInput } from "../proxy/index.ts";
import type { Store } from "../store/contract.ts";
import { ENTITIES, ENTITY_NAMES } from "../store/entities/index.ts";
import type { ProxyPlane } from "./proxy-plane.ts";

/**
 * How long a write waits for others before the snapshot is rebuilt. Bulk loads (10,000 routes posted one by
 * one) would otherwise rebuild once per write; 10 ms keeps a change visible well within 50 ms.
 */
const REBUILD_DELAY_MS = 10;

/** A plane that does not confirm a snapshot within this long is not waited for (a worker is restarting). */
const APPLY_TIMEOUT_MS = 10_000;

export class SnapshotRebuilder {
  #running: Promise<void> | undefined;
  #dirty = false;
  readonly #store: Store;
  readonly #plane: ProxyPlane;
  readonly #log: (line: string) => void;
  #built = false;
  /** Faults already logged, so each one is logged once, not at every rebuild. */
  #reported = new Set<string>();

  readonly #onLoad: ((input: SnapshotInput) => void) | null;

  /** `onLoad` sees each configuration loaded, before the plane gets it (the node's health checker follows it). */
  constructor(
    store: Store,
    plane: ProxyPlane,
    log: (line: string) => void,
    onLoad: ((input: SnapshotInput) => void) | null = null,
  ) {
    this.#store = store;
    this.#plane = plane;
    this.#log = log;
    this.#onLoad = onLoad;
  }

  /** After a write: build shortly, so a script's burst of writes costs one build, not one per write. */
  schedule(): void {
    this.#dirty = true;
    this.#running ??= this.#loop(REBUILD_DELAY_MS);
  }

  /** Builds now (or waits for the build under way plus one more), e.g. for the seed's refresh. */
  rebuildNow(): Promise<void> {
    this.#dirty = true;
    this.#running ??= this.#loop(0);
    return this.#running ?? Promise.resolve();
  }

  /** A snapshot of the store's configuration has been built and applied at least once. */
  get built(): boolean {
    return this.#built;
  }

  /** The version every proxy worker of this node serves. */
  servedVersion(): number {
    return this.#plane.served().version;
  }

  faults(): readonly ConfigFault[] {
    return this.#plane.served().faults;
  }

  /** Resolves true once every proxy worker serves `version` (or newer), false after `timeoutMs`. */
  whenServed(version: number, timeoutMs: number): Promise<boolean> {
    if (this.servedVersion() >= version) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (served: boolean) => {
        clearTimeout(timer);
        stop();
        resolve(served);
      };
      const stop = this.#plane.onServed(() => {
        if (this.servedVersion() >= version) done(true);
      });
      const timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  async synced(timeoutMs = 5000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      try {
        if ((await this.#store.configVersion()) === this.servedVersion()) return true;
      } catch {
        // The database does not answer: try again until the deadline.
      }
      await Promise.race([this.rebuildNow(), Bun.sleep(Math.max(0, deadline - performance.now()))]);
    }
    return false;
  }

  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Every entity the snapshot is built from (the version is read first, so it never claims too much). */
  async #load(): Promise<SnapshotInput> {
    const version = await this.#store.configVersion();
    const names = ENTITY_NAMES.filter((name) => ENTITIES[name].snapshot);
    const lists = await Promise.all(names.map((name) => this.#store.entity(name).all()));
    const entities: SnapshotEntities = Object.assign({}, ...names.map((name, i) => ({ [name]: lists[i] })));
    return { ...entities, version };
  }

  #report(faults: readonly ConfigFault[]): void {
    const current = new Set<string>();
    for (const fault of faults) {
      const key = `${fault.entity}/${fault.id}: ${fault.message}`;
      current.add(key);
      if (!this.#reported.has(key))
        this.#log(
          `configuration fault: ${fault.entity} ${fault.name ?? fault.id} left out of the proxy: ${fault.message}`,
        );
    }
    this.#reported = current;
  }

  async #loop(delayMs: number): Promise<void> {
    // Let a burst of writes (a batch, a script) land before building.
    if (delayMs > 0) await Bun.sleep(delayMs);
    else await Promise.resolve();
    try {
      while (this.#dirty) {
        this.#dirty = false;
        try {
          const input = await this.#load();
          this.#onLoad?.(input);
          const state = await Promise.race([
            this.#plane.apply(input),
            Bun.sleep(APPLY_TIMEOUT_MS).then(() => this.#plane.served()),
          ]);
          this.#report(state.faults);
          this.#built = true;
        } catch (error) {
          this.#log(
            `configuration rebuild failed, still serving the previous one: ${(error as Error).message}`,
          );
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}
