// Plugin chains, precomputed per route when a snapshot is built, and run per request.
//
// Scope precedence is Kong's: for one plugin name, the most specific configuration wins, in this order:
//   route+service+consumer, route+consumer, service+consumer, route+service, consumer, route, service, global.
// The consumer is known only once an authentication plugin has run, so each chain entry keeps its best
// consumer-less configuration and, per consumer, its best consumer-scoped one; the choice is made when the
// entry runs, after the plugins before it (higher priority) may have identified the consumer.
import type { Plugin } from "../schemas/plugins.ts";
import { PLUGIN_CATALOG, type PluginCatalog } from "./catalog.ts";
import type {
  LogEntry,
  LogReads,
  PluginContext,
  PluginHooks,
  PluginInstance,
  ResponseSource,
} from "./contract.ts";

/** A configuration that applies to a route, with its precedence and the instance compiled from it. */
type Ranked = { rank: number; config: unknown; instance: PluginInstance };

export type ChainEntry = {
  name: string;
  priority: number;
  /** Best configuration that does not depend on the consumer (rank: lower is more specific). */
  base: Ranked | null;
  /** Best consumer-scoped configuration per consumer id. */
  byConsumer: ReadonlyMap<string, Ranked> | null;
};

export type PluginChain = {
  entries: readonly ChainEntry[];
  /** The entries with an instance that has an access (response, log) hook: all a request has to look at. */
  accessEntries: readonly ChainEntry[];
  responseEntries: readonly ChainEntry[];
  logEntries: readonly ChainEntry[];
  hasResponse: boolean;
  hasLog: boolean;
  /**
   * The most any log hook of the chain reads (null: no log hook): whichever instance a request ends up
   * running (a consumer's or the route's), its log record has what it reads.
   */
  logReads: LogReads | null;
  /** A plugin that answers CORS preflights applies (see PluginDescriptor.handlesPreflight). */
  handlesPreflight: boolean;
  /**
   * Every request header the access hooks may edit (PluginInstance.upstreamHeaderEdits, lower-case), whichever
   * instance a request runs; null when one of them may edit any.
   */
  upstreamHeaderEdits: ReadonlySet<string> | null;
  /**
   * Per access entry (same index as accessEntries): the request headers the entries before it may have edited,
   * as upstreamHeaderEdits counts them; null once one before it may edit any. When that entry's hook starts,
   * a header not named here is still as the client sent it (PluginContext.editedEarlier).
   */
  accessEditsBefore: readonly (ReadonlySet<string> | null)[];
  /** The first access plugin's shortcut, where it may answer before anything else runs (PluginHooks.shortcut). */
  shortcut: NonNullable<PluginHooks["shortcut"]> | null;
};

/** Precedence rank of a plugin's scope (1 = most specific), or 0 when it does not apply to the route. */
function rankFor(plugin: Plugin, routeId: string, serviceId: string | null): number {
  const r = plugin.route?.id ?? null;
  const s = plugin.service?.id ?? null;
  const c = plugin.consumer !== null;
  if (r !== null && r !== routeId) return 0;
  if (s !== null && s !== serviceId) return 0;
  if (r && s) return c ? 1 : 4;
  if (r) return c ? 2 : 6;
  if (s) return c ? 3 : 7;
  return c ? 5 : 8;
}

export type ChainCompiler = (routeId: string, serviceId: string | null) => PluginChain | null;

/**
 * Prepares chain building for one snapshot. Chains are shared between routes whose applicable plugin set is
 * the same (e.g. every route when only global plugins exist), so 10,000 routes cost little.
 */
export function chainCompiler(
  plugins: readonly Plugin[],
  instanceFor: (plugin: Plugin) => PluginInstance | undefined,
  catalog: PluginCatalog = PLUGIN_CATALOG,
): ChainCompiler {
  const usable = plugins.filter(
    (p) => p.enabled && p.protocols.includes("http") && instanceFor(p) !== undefined,
  );
  if (usable.length === 0) return () => null;
  const byRoute = new Set(usable.flatMap((p) => (p.route ? [p.route.id] : [])));
  const byService = new Set(usable.flatMap((p) => (p.service ? [p.service.id] : [])));
  const shared = new Map<string, PluginChain | null>();

  return (routeId, serviceId) => {
    const key = `${byRoute.has(routeId) ? routeId : ""}|${serviceId && byService.has(serviceId) ? serviceId : ""}`;
    if (shared.has(key)) return shared.get(key)!;
    const entries = new Map<string, { base: Ranked | null; byConsumer: Map<string, Ranked> | null }>();
    for (const plugin of usable) {
      const rank = rankFor(plugin, routeId, serviceId);
      if (rank === 0) continue;
      let entry = entries.get(plugin.name);
      if (!entry) {
        entry = { base: null, byConsumer: null };
        entries.set(plugin.name, entry);
      }
      const ranked = { rank, config: plugin.config, instance: instanceFor(plugin)! };
      if (plugin.consumer) {
        entry.byConsumer ??= new Map();
        const current = entry.byConsumer.get(plugin.consumer.id);
        if (!current || rank < current.rank) entry.byConsumer.set(plugin.consumer.id, ranked);
      } else if (!entry.base || rank < entry.base.rank) entry.base = ranked;
    }
    const list: ChainEntry[] = [...entries]
      .map(([name, e]) => ({
        name,
        priority: catalog.get(name)!.priority,
        base: e.base,
        byConsumer: e.byConsumer,
      }))
      .sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
    const chain =
      list.length === 0
        ? null
        : pluginChain(
            list,
            list.some((e) => e.base !== null && catalog.get(e.name)!.handlesPreflight === true),
          );
    shared.set(key, chain);
    return chain;
  };
}

/** A chain over entries in priority order, with the lists of those each phase has to look at. */
export function pluginChain(entries: readonly ChainEntry[], handlesPreflight: boolean): PluginChain {
  const instancesOf = (e: ChainEntry) => [
    ...(e.base ? [e.base.instance] : []),
    ...(e.byConsumer ? [...e.byConsumer.values()].map((r) => r.instance) : []),
  ];
  const having = (hook: "access" | "response" | "log") =>
    Object.freeze(entries.filter((e) => instancesOf(e).some((i) => i[hook] !== undefined)));
  const responseEntries = having("response");
  const logEntries = having("log");
  const accessEntries = having("access");
  const first = accessEntries[0];
  const shortcut =
    first !== undefined &&
    first.byConsumer === null &&
    responseEntries.every((e) => e === first) &&
    logEntries.length === 0
      ? (first.base?.instance.shortcut ?? null)
      : null;
  // What the access hooks may have edited before each entry runs, and after the last (forwarding's question).
  const accessEditsBefore: (ReadonlySet<string> | null)[] = [];
  let upstreamHeaderEdits: Set<string> | null = new Set();
  for (const entry of accessEntries) {
    accessEditsBefore.push(upstreamHeaderEdits === null ? null : new Set(upstreamHeaderEdits));
    if (upstreamHeaderEdits === null) continue;
    const editors = instancesOf(entry).filter((i) => i.access !== undefined);
    upstreamHeaderEdits = editors.every((i) => i.upstreamHeaderEdits !== undefined)
      ? new Set([...upstreamHeaderEdits, ...editors.flatMap((i) => i.upstreamHeaderEdits!)])
      : null;
  }
  const logReads = logEntries
    .flatMap(instancesOf)
    .filter((i) => i.log !== undefined)
    .reduce<LogReads | null>((most, i) => wider(most, i.logReads ?? "record"), null);
  return Object.freeze({
    entries: Object.freeze([...entries]),
    accessEntries,
    responseEntries,
    logEntries,
    hasResponse: responseEntries.length > 0,
    hasLog: logEntries.length > 0,
    logReads,
    handlesPreflight,
    upstreamHeaderEdits,
    accessEditsBefore: Object.freeze(accessEditsBefore),
    shortcut,
  });
}

const LOG_READS_ORDER: readonly LogReads[] = ["facts", "sizes", "record"];

function wider(a: LogReads | null, b: LogReads): LogReads {
  return a === null || LOG_READS_ORDER.indexOf(b) > LOG_READS_ORDER.indexOf(a) ? b : a;
}

/** The instance an entry runs with for this request, or undefined when none applies. */
function instanceFor(entry: ChainEntry, ctx: PluginContext): PluginInstance | undefined {
  const consumerId = ctx.consumer?.id;
  const scoped = consumerId !== undefined ? entry.byConsumer?.get(consumerId) : undefined;
  if (scoped && (!entry.base || scoped.rank < entry.base.rank)) return scoped.instance;
  return entry.base?.instance;
}

/**
 * Runs the access hooks in priority order; the first Response ends the request. Stays synchronous until a
 * hook returns a promise (most never do), so a protected request pays no extra event-loop turns.
 */
export function runAccess(
  chain: PluginChain,
  ctx: PluginContext,
  from = 0,
): Response | undefined | Promise<Response | undefined> {
  const entries = chain.accessEntries;
  for (let i = from; i < entries.length; i++) {
    const instance = instanceFor(entries[i]!, ctx);
    if (instance?.access === undefined) continue;
    ctx.editedEarlier = chain.accessEditsBefore[i]!;
    const result = instance.access(ctx);
    if (result instanceof Promise)
      return result.then(
        (response) => (response ? accessEnded(ctx, response) : runAccess(chain, ctx, i + 1)),
        (error) => {
          accessEnded(ctx, undefined);
          throw error;
        },
      );
    if (result) return accessEnded(ctx, result);
  }
  return accessEnded(ctx, undefined);
}

/** Outside the access phase nothing is known about what was edited (PluginContext.editedEarlier). */
function accessEnded(ctx: PluginContext, answer: Response | undefined): Response | undefined {
  ctx.editedEarlier = null;
  return answer;
}

/**
 * Runs the response hooks in priority order on the response that goes out; each sees the one the previous
 * returned. Synchronous until a hook returns a promise (one that reads or rewrites a body).
 */
export function runResponse(
  chain: PluginChain,
  ctx: PluginContext,
  response: Response,
  source: ResponseSource,
  from = 0,
): Response | Promise<Response> {
  const entries = chain.responseEntries;
  let current = response;
  for (let i = from; i < entries.length; i++) {
    const instance = instanceFor(entries[i]!, ctx);
    if (instance?.response === undefined) continue;
    const result = instance.response(ctx, current, source);
    if (result instanceof Promise) {
      const before = current;
      return result.then((next) => runResponse(chain, ctx, next ?? before, source, i + 1));
    }
    if (result !== undefined) current = result;
  }
  return current;
}

/**
 * Runs every log hook of the chain (the caller runs this after the response was handed over, so it never
 * delays it). A failing hook is reported through `report` and does not stop the others.
 */
export function runLog(
  chain: PluginChain,
  ctx: PluginContext,
  entry: LogEntry,
  report: (plugin: string, error: unknown) => void,
): void {
  for (const chained of chain.logEntries) {
    const instance = instanceFor(chained, ctx);
    if (instance?.log === undefined) continue;
    try {
      instance.log(ctx, entry);
    } catch (error) {
      report(chained.name, error);
    }
  }
}
