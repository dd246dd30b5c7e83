// Compiled plugin instances and their lifecycle. Each snapshot leases the instances it needs: a plugin whose
// name, scope and config did not change keeps its instance (and whatever it holds — counters, caches, clients)
// across rebuilds; one that changed or went away is cleaned up once no live snapshot uses it any more.
import type { Plugin } from "../schemas/plugins.ts";
import { PLUGIN_CATALOG, type PluginCatalog } from "./catalog.ts";
import type { PluginContext, PluginEnv, PluginInstance } from "./contract.ts";
import { MetricsRegistry } from "./metrics.ts";
import { SharedCounters } from "./rate-counters.ts";

/** The node facilities of a gateway that runs alone in this process, without a database (tools, tests). */
export function standaloneEnv(log: (line: string) => void): PluginEnv {
  return {
    log,
    localCounters: new SharedCounters(SharedCounters.allocate(1 << 12)),
    clusterCounters: null,
    metrics: new MetricsRegistry(),
    errorLog: (level, message) => log(`[${level}] ${message}`),
  };
}

/** A plugin that could not be compiled: left out of nothing (that could open a protected route) — it fails closed. */
export type PluginFault = { id: string; name: string; message: string };

type Entry = { fingerprint: string; instance: PluginInstance; leases: number; fault: string | null };

export type PluginLease = {
  /** The instance each plugin (by id) runs with in this snapshot. */
  instanceFor(plugin: Plugin): PluginInstance | undefined;
  faults: readonly PluginFault[];
  /** Called once when the snapshot is retired and drained. */
  release(): void;
};

/** Requests through a plugin that failed to compile get Kong's answer to a failing plugin: a 500. */
function failClosed(): PluginInstance {
  return { access: (ctx: PluginContext) => ctx.respond(500, "An unexpected error occurred") };
}

/** An instance is reused while its name, config and scope are the same (compile may depend on all three). */
function fingerprint(plugin: Plugin): string {
  const scope = `${plugin.route?.id ?? ""}\u0000${plugin.service?.id ?? ""}\u0000${plugin.consumer?.id ?? ""}`;
  return `${plugin.name}\u0000${scope}\u0000${JSON.stringify(plugin.config)}`;
}

export class PluginInstancePool {
  readonly #current = new Map<string, Entry>();
  /** Cleanups still running (an http-log queue sending what waits). */
  readonly #cleaning = new Set<Promise<void>>();
  readonly #env: PluginEnv;
  /** The descriptors instances are compiled from (the bundled plugins; tests may add their own). */
  readonly catalog: PluginCatalog;

  constructor(env: PluginEnv, catalog: PluginCatalog = PLUGIN_CATALOG) {
    this.#env = env;
    this.catalog = catalog;
  }

  lease(plugins: readonly Plugin[]): PluginLease {
    const leased = new Map<string, Entry>();
    const faults: PluginFault[] = [];
    for (const plugin of plugins) {
      const descriptor = this.catalog.get(plugin.name);
      if (!descriptor || !plugin.enabled) continue;
      const print = fingerprint(plugin);
      let entry = this.#current.get(plugin.id);
      if (!entry || entry.fingerprint !== print) {
        entry = this.#compile(plugin, print);
        this.#current.set(plugin.id, entry);
      }
      if (entry.fault !== null) faults.push({ id: plugin.id, name: plugin.name, message: entry.fault });
      entry.leases++;
      leased.set(plugin.id, entry);
    }
    let released = false;
    return {
      instanceFor: (plugin) => leased.get(plugin.id)?.instance,
      faults,
      release: () => {
        if (released) return;
        released = true;
        for (const [id, entry] of leased) this.#drop(id, entry);
      },
    };
  }

  #compile(plugin: Plugin, print: string): Entry {
    const descriptor = this.catalog.get(plugin.name)!;
    try {
      return {
        fingerprint: print,
        instance: descriptor.compile(plugin.config, this.#env, {
          id: plugin.id,
          route: plugin.route?.id ?? null,
          service: plugin.service?.id ?? null,
          consumer: plugin.consumer?.id ?? null,
        }),
        leases: 0,
        fault: null,
      };
    } catch (error) {
      return { fingerprint: print, instance: failClosed(), leases: 0, fault: (error as Error).message };
    }
  }

  #drop(id: string, entry: Entry): void {
    entry.leases--;
    if (entry.leases > 0) return;
    if (this.#current.get(id) === entry) {
      // Still the plugin's current instance but no snapshot uses it (the plugin was deleted or disabled).
      this.#current.delete(id);
    }
    const cleanup = entry.instance.cleanup;
    if (!cleanup) return;
    const running = Promise.resolve()
      .then(() => cleanup.call(entry.instance))
      .catch((error) => this.#env.log(`plugin cleanup failed: ${(error as Error).message}`))
      .finally(() => this.#cleaning.delete(running));
    this.#cleaning.add(running);
  }

  /** Resolves once the cleanups started so far are done, or after `timeoutMs` (the node is stopping). */
  async settled(timeoutMs: number): Promise<void> {
    let timer: Timer | undefined;
    await Promise.race([
      Promise.all(this.#cleaning),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
