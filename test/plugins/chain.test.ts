// Plugin chains: Kong's scope precedence and priority order (pure logic, no server).
import { describe, expect, test } from "bun:test";
import { PLUGIN_CATALOG } from "../../src/plugins/catalog.ts";
import {
  type ChainEntry,
  chainCompiler as compileChains,
  type PluginChain,
  pluginChain,
  runAccess,
  runResponse,
} from "../../src/plugins/chain.ts";
import type { PluginContext, PluginInstance, ResponseSource } from "../../src/plugins/contract.ts";
import { PluginInstancePool, standaloneEnv } from "../../src/plugins/instances.ts";
import type { Plugin } from "../../src/schemas/plugins.ts";

const ROUTE = "00000000-0000-4000-8000-00000000000a";
const OTHER_ROUTE = "00000000-0000-4000-8000-00000000000b";
const SERVICE = "00000000-0000-4000-8000-00000000000c";
const CONSUMER = "00000000-0000-4000-8000-00000000000d";

/** Chains over instances compiled from these plugins (configs are used as given). */
function chainCompiler(plugins: Plugin[]) {
  return compileChains(plugins, new PluginInstancePool(standaloneEnv(() => {})).lease(plugins).instanceFor);
}

let next = 0;
function plugin(
  name: string,
  scope: { route?: string; service?: string; consumer?: string },
  config: object,
): Plugin {
  next++;
  return {
    id: `00000000-0000-4000-8000-${String(next).padStart(12, "0")}`,
    created_at: 0,
    updated_at: 0,
    name,
    instance_name: null,
    route: scope.route ? { id: scope.route } : null,
    service: scope.service ? { id: scope.service } : null,
    consumer: scope.consumer ? { id: scope.consumer } : null,
    config: config as Record<string, unknown>,
    protocols: ["http", "https"],
    enabled: true,
    tags: null,
  };
}

/** The `allow` list of the acl config chosen for a request (acl has no side effects we need here). */
function chosenConfig(plugins: Plugin[], consumerId: string | null, routeId = ROUTE): unknown {
  const chain = chainCompiler(plugins)(routeId, SERVICE);
  const entry = chain?.entries.find((e) => e.name === "acl");
  if (!entry) return undefined;
  const scoped = consumerId ? entry.byConsumer?.get(consumerId) : undefined;
  if (scoped && (!entry.base || scoped.rank < entry.base.rank)) return scoped.config;
  return entry.base?.config;
}

describe("plugin scope precedence (Kong's order)", () => {
  const scopes = [
    ["route+service+consumer", { route: ROUTE, service: SERVICE, consumer: CONSUMER }],
    ["route+consumer", { route: ROUTE, consumer: CONSUMER }],
    ["service+consumer", { service: SERVICE, consumer: CONSUMER }],
    ["route+service", { route: ROUTE, service: SERVICE }],
    ["consumer", { consumer: CONSUMER }],
    ["route", { route: ROUTE }],
    ["service", { service: SERVICE }],
    ["global", {}],
  ] as const;

  // For every pair, the more specific scope wins whatever the insertion order.
  for (let i = 0; i < scopes.length; i++)
    for (let j = i + 1; j < scopes.length; j++) {
      const [strong, strongScope] = scopes[i]!;
      const [weak, weakScope] = scopes[j]!;
      test(`${strong} beats ${weak}`, () => {
        const plugins = [
          plugin("acl", weakScope, { tag: weak }),
          plugin("acl", strongScope, { tag: strong }),
        ];
        expect(chosenConfig(plugins, CONSUMER)).toEqual({ tag: strong });
        expect(chosenConfig(plugins.reverse(), CONSUMER)).toEqual({ tag: strong });
      });
    }

  test("consumer-scoped configurations apply only to that consumer", () => {
    const plugins = [
      plugin("acl", { consumer: CONSUMER }, { tag: "mine" }),
      plugin("acl", {}, { tag: "global" }),
    ];
    expect(chosenConfig(plugins, CONSUMER)).toEqual({ tag: "mine" });
    expect(chosenConfig(plugins, "00000000-0000-4000-8000-0000000000ff")).toEqual({ tag: "global" });
    expect(chosenConfig(plugins, null)).toEqual({ tag: "global" });
  });

  test("a plugin scoped to another route does not apply", () => {
    const plugins = [plugin("acl", { route: OTHER_ROUTE }, { tag: "other" })];
    expect(chosenConfig(plugins, null)).toBeUndefined();
    expect(chosenConfig(plugins, null, OTHER_ROUTE)).toEqual({ tag: "other" });
  });

  test("disabled plugins and plugins not for http are left out", () => {
    const disabled = { ...plugin("acl", {}, { tag: "off" }), enabled: false };
    const httpsOnly = { ...plugin("acl", {}, { tag: "tls" }), protocols: ["https" as const] };
    expect(chainCompiler([disabled, httpsOnly])(ROUTE, SERVICE)).toBeNull();
  });

  test("entries run by priority: jwt, key-auth, basic-auth, acl", () => {
    const plugins = ["acl", "basic-auth", "key-auth", "jwt"].map((name) => plugin(name, {}, {}));
    const chain = chainCompiler(plugins)(ROUTE, SERVICE)!;
    expect(chain.entries.map((e) => e.name)).toEqual(["jwt", "key-auth", "basic-auth", "acl"]);
  });

  test("routes with the same applicable plugins share one chain", () => {
    const compile = chainCompiler([plugin("acl", {}, {})]);
    expect(compile(ROUTE, SERVICE)).toBe(compile(OTHER_ROUTE, null));
  });

  test("the first access hook that answers ends the chain", async () => {
    const plugins = [plugin("acl", {}, { allow: ["x"], deny: null, hide_groups_header: false })];
    const chain = chainCompiler(plugins)(ROUTE, SERVICE)!;
    const ctx = {
      consumer: null,
      respond: (status: number, message: string) => Response.json({ message }, { status }),
    } as unknown as PluginContext;
    const response = await runAccess(chain, ctx);
    expect(response?.status).toBe(401);
  });
});

describe("response hooks", () => {
  /** A chain over hand-made instances, in the order given (as if sorted by priority). */
  function chainOf(instances: PluginInstance[]): PluginChain {
    const entries: ChainEntry[] = instances.map((instance, i) => ({
      name: `p${i}`,
      priority: 100 - i,
      base: { rank: 8, config: {}, instance },
      byConsumer: null,
    }));
    return pluginChain(entries, false);
  }
  const ctx = { consumer: null } as unknown as PluginContext;

  test("run in priority order on the response, each seeing the previous one's replacement", async () => {
    const seen: string[] = [];
    const chain = chainOf([
      {
        response: (_ctx, res, source) => {
          seen.push(`first:${source}:${res.status}`);
          res.headers.set("x-first", "1");
          return undefined;
        },
      },
      {
        response: async (_ctx, res) => {
          seen.push(`second:${res.headers.get("x-first")}`);
          return new Response(`${await res.text()}+rewritten`, { status: 201, headers: res.headers });
        },
      },
      {
        response: (_ctx, res) => {
          seen.push(`third:${res.status}`);
          return undefined;
        },
      },
    ]);
    const out = await runResponse(chain, ctx, new Response("body", { status: 200 }), "service");
    expect(seen).toEqual(["first:service:200", "second:1", "third:201"]);
    expect(out.status).toBe(201);
    expect(await out.text()).toBe("body+rewritten");
  });

  test("stay synchronous when no hook returns a promise, and pass the source along", () => {
    const sources: ResponseSource[] = [];
    const chain = chainOf([{ response: (_c, _r, source) => void sources.push(source) }]);
    const original = new Response(null, { status: 401 });
    expect(runResponse(chain, ctx, original, "exit")).toBe(original);
    expect(runResponse(chain, ctx, original, "error")).toBe(original);
    expect(sources).toEqual(["exit", "error"]);
  });

  test("a chain without response hooks hands the response back untouched", () => {
    const chain = { ...chainOf([{ access: () => undefined }]), hasResponse: false };
    const original = new Response("x");
    expect(runResponse(chain, ctx, original, "service")).toBe(original);
  });
});

describe("what a chain's log hooks read (the log record keeps only that)", () => {
  const entry = (name: string, base: PluginInstance | null, consumer?: PluginInstance): ChainEntry => ({
    name,
    priority: 10,
    base: base && { rank: 6, config: {}, instance: base },
    byConsumer: consumer ? new Map([[CONSUMER, { rank: 2, config: {}, instance: consumer }]]) : null,
  });
  const log = () => {};

  test("no log hook: nothing; hooks that declare: the widest; a hook that does not say: the whole record", () => {
    expect(pluginChain([entry("a", { access: () => undefined })], false).logReads).toBeNull();
    expect(pluginChain([entry("a", { log, logReads: "facts" })], false).logReads).toBe("facts");
    expect(
      pluginChain([entry("a", { log, logReads: "facts" }), entry("b", { log, logReads: "sizes" })], false)
        .logReads,
    ).toBe("sizes");
    expect(pluginChain([entry("a", { log, logReads: "facts" }), entry("b", { log })], false).logReads).toBe(
      "record",
    );
  });

  test("a consumer's instance counts as much as the route's: whichever runs finds what it reads", () => {
    const chain = pluginChain(
      [entry("a", { log, logReads: "facts" }), entry("b", null, { log, logReads: "record" })],
      false,
    );
    expect(chain.logReads).toBe("record");
  });

  test("prometheus: the facts, or the sizes once bandwidth is counted", () => {
    const compiled = (config: object) =>
      chainCompiler([plugin("prometheus", { route: ROUTE }, config)])(ROUTE, SERVICE)?.logReads ?? null;
    expect(compiled({ status_code_metrics: true })).toBe("facts");
    expect(compiled({ status_code_metrics: true, bandwidth_metrics: true })).toBe("sizes");
    expect(compiled({})).toBeNull();
  });
});

describe("which request headers a chain's access hooks may edit (forwarding trusts the received snapshot)", () => {
  const access = () => undefined;
  const entry = (name: string, base: PluginInstance | null, consumer?: PluginInstance): ChainEntry => ({
    name,
    priority: 10,
    base: base && { rank: 6, config: {}, instance: base },
    byConsumer: consumer ? new Map([[CONSUMER, { rank: 2, config: {}, instance: consumer }]]) : null,
  });

  test("the union of what the access hooks declare; one that does not say makes it unknown (null)", () => {
    const chain = pluginChain(
      [entry("a", { access, upstreamHeaderEdits: ["x-a"] }), entry("b", { access, upstreamHeaderEdits: [] })],
      false,
    );
    expect([...chain.upstreamHeaderEdits!]).toEqual(["x-a"]);
    expect(
      pluginChain([entry("a", { access, upstreamHeaderEdits: ["x-a"] }), entry("b", { access })], false)
        .upstreamHeaderEdits,
    ).toBeNull();
    // A consumer's instance may run instead of the route's: it counts as much.
    expect(
      pluginChain([entry("a", { access, upstreamHeaderEdits: [] }, { access })], false).upstreamHeaderEdits,
    ).toBeNull();
    // Hooks that run after forwarding (log, response) edit nothing forwarding reads.
    expect([...pluginChain([entry("a", { log: () => {} })], false).upstreamHeaderEdits!]).toEqual([]);
  });

  test("key-auth, acl and rate-limiting declare theirs; hide_credentials adds the key's header and the body's framing", () => {
    const parsed = (name: string, config: object) => PLUGIN_CATALOG.get(name)!.config.parse(config) as object;
    const edits = (plugins: Plugin[]) => {
      const found = chainCompiler(plugins)(ROUTE, SERVICE)?.upstreamHeaderEdits;
      return found === null || found === undefined ? found : [...found].sort();
    };
    const consumerHeaders = [
      "x-anonymous-consumer",
      "x-consumer-custom-id",
      "x-consumer-id",
      "x-consumer-username",
      "x-credential-identifier",
    ];
    expect(
      edits([
        plugin("key-auth", { route: ROUTE }, parsed("key-auth", {})),
        plugin("acl", { route: ROUTE }, parsed("acl", { allow: ["a"] })),
        plugin("rate-limiting", { route: ROUTE }, parsed("rate-limiting", { minute: 5 })),
      ]),
    ).toEqual([...consumerHeaders.slice(0, 2), "x-consumer-groups", ...consumerHeaders.slice(2)]);
    expect(
      edits([
        plugin(
          "key-auth",
          { route: ROUTE },
          parsed("key-auth", { hide_credentials: true, key_names: ["Api-Key"] }),
        ),
      ]),
    ).toEqual(["api-key", "content-length", "content-type", "transfer-encoding", ...consumerHeaders].sort());
    // request-transformer may edit any header.
    expect(
      edits([plugin("request-transformer", { route: ROUTE }, parsed("request-transformer", {}))]),
    ).toBeNull();
  });
});

describe("what the hooks before each access hook may have edited (PluginContext.editedEarlier)", () => {
  const entry = (name: string, base: PluginInstance, consumer?: PluginInstance): ChainEntry => ({
    name,
    priority: 10,
    base: { rank: 6, config: {}, instance: base },
    byConsumer: consumer ? new Map([[CONSUMER, { rank: 2, config: {}, instance: consumer }]]) : null,
  });
  const names = (set: ReadonlySet<string> | null | undefined) => (set ? [...set].sort() : set);

  test("per entry: the union of the declarations before it, null from the first hook that does not say", () => {
    const access = () => undefined;
    const chain = pluginChain(
      [
        entry("a", { access, upstreamHeaderEdits: ["x-a"] }),
        entry("b", { access, upstreamHeaderEdits: [] }),
        // Its consumer's instance may run instead: its declaration counts for the entries after it.
        entry("c", { access, upstreamHeaderEdits: ["x-c"] }, { access, upstreamHeaderEdits: ["x-c2"] }),
        entry("d", { access }),
        entry("e", { access, upstreamHeaderEdits: ["x-e"] }),
      ],
      false,
    );
    expect(chain.accessEditsBefore.map(names)).toEqual([[], ["x-a"], ["x-a"], ["x-a", "x-c", "x-c2"], null]);
    // Forwarding's question is the same union after the last entry.
    expect(chain.upstreamHeaderEdits).toBeNull();
    // Entries with no access hook are not access entries and count for nothing.
    const logOnly = pluginChain(
      [entry("a", { log: () => {} }), entry("b", { access, upstreamHeaderEdits: ["x-b"] })],
      false,
    );
    expect(logOnly.accessEditsBefore.map(names)).toEqual([[]]);
    expect(names(logOnly.upstreamHeaderEdits)).toEqual(["x-b"]);
  });

  test("runAccess tells each hook its entry's set, and clears it when the access phase ends", async () => {
    const seen: (string[] | null | undefined)[] = [];
    const look = (ctx: PluginContext): undefined => {
      seen.push(names(ctx.editedEarlier));
    };
    const sync = (edits: string[]): PluginInstance => ({
      access: (ctx) => look(ctx),
      upstreamHeaderEdits: edits,
    });
    const later = (edits: string[], answer?: Response): PluginInstance => ({
      access: async (ctx) => {
        await Bun.sleep(1);
        look(ctx);
        return answer;
      },
      upstreamHeaderEdits: edits,
    });
    const ctx = { consumer: null, editedEarlier: new Set(["stale"]) } as unknown as PluginContext;
    const chain = pluginChain(
      [entry("a", sync(["x-a"])), entry("b", later(["x-b"])), entry("c", sync(["x-c"]))],
      false,
    );
    expect(await runAccess(chain, ctx)).toBeUndefined();
    expect(seen).toEqual([[], ["x-a"], ["x-a", "x-b"]]);
    expect(ctx.editedEarlier).toBeNull();

    // An answer ends the phase: synchronous, after an await, or a hook that throws.
    const answer = new Response("no", { status: 401 });
    for (const answering of [
      pluginChain([entry("a", sync(["x-a"])), entry("b", { access: () => answer })], false),
      pluginChain([entry("a", sync(["x-a"])), entry("b", later([], answer))], false),
    ]) {
      ctx.editedEarlier = new Set(["stale"]);
      expect(await runAccess(answering, ctx)).toBe(answer);
      expect(ctx.editedEarlier).toBeNull();
    }
    ctx.editedEarlier = new Set(["stale"]);
    const failing = pluginChain(
      [
        entry("a", {
          access: async () => {
            throw new Error("boom");
          },
        }),
      ],
      false,
    );
    await expect(runAccess(failing, ctx)).rejects.toThrow("boom");
    expect(ctx.editedEarlier).toBeNull();
  });
});
