// The plugins' own JavaScript per request, in-process: the issue 12/13 pairs of bench/run.ts (key-auth + acl,
// key-auth + rate-limiting, prometheus with every flag, the access log, cors + both transformers, a
// proxy-cache hit) each against the plain route, all in one process with `fetch` answered at once by a
// canned nginx response. The configuration goes through the real store (SQLite in memory, a declarative
// document) and the real plugin pool, as a proxy plane builds it. CPU of the process (one JavaScript thread;
// the log writer's flushes are included) per block of requests, each target's block next to one of the plain
// route, median of the paired differences over many rounds: a change of a
// few hundred nanoseconds shows, which the end-to-end pairs on a shared 2-core machine cannot resolve.
// What it cannot show: the cache misses the real server pays between native and JavaScript code (the same
// JavaScript costs more end to end; compare with bench/run.ts --pairs-only).
//
//   bun bench/plugin-cost.ts [--rounds 40] [--requests 3000] [--only <label text>]
//   TARGETS=limited bun --cpu-prof bench/plugin-cost.ts   (routes by name, e.g. to profile one)
//   TARGETS=limited bun bench/plugin-cost.ts --solo --warmup 3000 --requests 2000
//     one route only (no plain blocks): a fixed warm-up, then one block of --requests. Two such runs that differ
//     only in --requests, under `valgrind --tool=callgrind --separate-threads=yes`, give the route's
//     instructions per request (the difference of the main thread's totals ÷ the difference of requests).
//
// Not a test: nothing here asserts. `fetch` is replaced in this process only, for the measurement.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadText, syncDocuments } from "../src/declarative/index.ts";
import { PluginInstancePool } from "../src/plugins/instances.ts";
import { LineWriter } from "../src/plugins/line-writer.ts";
import { MetricsRegistry } from "../src/plugins/metrics.ts";
import { SharedCounters } from "../src/plugins/rate-counters.ts";
import { BalancerPool } from "../src/proxy/balancer/balancer-pool.ts";
import { buildSnapshot, createProxy, type SnapshotInput } from "../src/proxy/index.ts";
import { ENTITIES, ENTITY_NAMES } from "../src/store/entities/index.ts";
import { openStore } from "../src/store/open.ts";
import { BENCH_SERVER, cannedNginxFetch } from "./canned-upstream.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "40" },
    requests: { type: "string", default: "3000" },
    only: { type: "string" },
    solo: { type: "boolean", default: false },
    warmup: { type: "string" },
    marks: { type: "boolean", default: false },
  },
});
const ROUNDS = Number(flags.rounds);
const REQUESTS = Number(flags.requests);
const UPSTREAM = "http://127.0.0.1:18080";

// bench/run.ts's pairs, as one declarative document.
const DOCUMENT = `
_format_version: "3.0"
consumers:
  - username: bench
    keyauth_credentials: [{ key: bench-key }]
    acls: [{ group: bench }]
services:
  - name: bench
    url: ${UPSTREAM}
    routes:
      - { name: plain, paths: [/plain] }
      - name: auth
        paths: [/auth]
        plugins: [{ name: key-auth }, { name: acl, config: { allow: [bench] } }]
      - name: limited
        paths: [/limited]
        plugins:
          - { name: key-auth }
          - { name: rate-limiting, config: { second: 1000000000, policy: local } }
      - name: prom
        paths: [/prom]
        plugins:
          - name: prometheus
            config:
              per_consumer: true
              status_code_metrics: true
              latency_metrics: true
              bandwidth_metrics: true
              upstream_health_metrics: true
      - name: transformed
        paths: [/transformed]
        plugins:
          - { name: cors, config: { origins: ["https://app.example.com"] } }
          - name: request-transformer
            config: { add: { headers: ["x-bench:1"] }, remove: { headers: [x-none] } }
          - name: response-transformer
            config: { add: { headers: ["x-served:1"] }, remove: { headers: [x-none] } }
      - name: cached
        paths: [/cached]
        plugins:
          - name: proxy-cache
            config: { strategy: memory, content_type: [text/plain, application/octet-stream], cache_ttl: 3600 }
`;

const store = await openStore(":memory:");
await syncDocuments(store, [loadText(DOCUMENT, "bench.yaml")]);
const names = ENTITY_NAMES.filter((name) => ENTITIES[name].snapshot);
const lists = await Promise.all(names.map((name) => store.entity(name).all()));
const input = {
  version: 1,
  ...Object.fromEntries(names.map((name, i) => [name, lists[i]])),
} as SnapshotInput;

const work = mkdtempSync(join(tmpdir(), "portico-plugin-cost-"));
// The writer as the gateway opens it (4 MiB may wait): a smaller bound would drop lines and leave their writes
// out of the figure.
const accessLog = new LineWriter(join(work, "access.log"), { report: console.error });
const silent = () => {};

/** A proxy built as a plane builds it (runtime/proxy-plane.ts), without listeners. */
function planeProxy(logged: boolean) {
  const proxy = createProxy({
    bodyLimit: 128 * 1024 * 1024,
    version: "bench",
    report: silent,
    errorLog: silent,
    accessLog: logged
      ? {
          format: "combined",
          write: (line) => accessLog.write(line),
          writeBytes: (bytes, length) => accessLog.writeBytes(bytes, length),
        }
      : null,
  });
  const pool = new PluginInstancePool({
    log: silent,
    localCounters: new SharedCounters(),
    clusterCounters: null,
    metrics: new MetricsRegistry(),
    errorLog: silent,
  });
  proxy.swap(buildSnapshot(input, pool, new BalancerPool(null)));
  return proxy;
}
const proxy = planeProxy(false);
const loggedProxy = planeProxy(true);

const server = BENCH_SERVER as unknown as Parameters<typeof proxy.fetch>[1];

const cannedFetch = cannedNginxFetch(100);
globalThis.fetch = cannedFetch as unknown as typeof fetch;

// wrk's request with bench/run.ts's header: both sides of every pair send the key.
const request = (path: string) =>
  new Request(`http://127.0.0.1:8000${path}`, { headers: { host: "127.0.0.1:8000", apikey: "bench-key" } });
const via = (p: typeof proxy, path: string) => () => p.fetch(request(path), server);

type Target = { name: string; label: string; run: () => Response | Promise<Response> | undefined };
const targets: Target[] = [
  { name: "plain", label: "plain route", run: via(proxy, "/plain/100b") },
  { name: "auth", label: "key-auth + acl", run: via(proxy, "/auth/100b") },
  { name: "limited", label: "key-auth + rate-limiting (local)", run: via(proxy, "/limited/100b") },
  { name: "prom", label: "prometheus (all flags)", run: via(proxy, "/prom/100b") },
  { name: "logged", label: "access log (combined, file)", run: via(loggedProxy, "/plain/100b") },
  {
    name: "transformed",
    label: "cors + request- + response-transformer (headers)",
    run: via(proxy, "/transformed/100b"),
  },
  { name: "cached", label: "proxy-cache hit", run: via(proxy, "/cached/100b") },
];

/** One turn of the event loop: the log phase (plugins' log hooks, the access log) runs on such a turn. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Requests per event-loop turn, as a server at c50 would see them. */
const PER_TURN = 50;

async function measure(run: Target["run"], requests = REQUESTS): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const response = await run();
    if (response?.status !== 200) throw new Error(`answered ${response?.status}`);
    // A client reads the body; a cache hit's or a transformed body's work is only done then.
    await response.arrayBuffer();
    // Awaiting only promises never lets the event loop turn: without this, the log phase of every request
    // would wait until the end of the run, outside every measured block.
    if ((i + 1) % PER_TURN === 0) await turn();
  }
  await turn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const wanted = process.env.TARGETS?.split(",");
const picked = (t: Target) =>
  (!wanted || wanted.includes(t.name)) && (!flags.only || t.label.includes(flags.only));
if (flags.solo) {
  // One route, nothing else: a fixed warm-up (the same whatever --requests), then one measured block.
  const [target, ...more] = targets.filter(picked);
  if (target === undefined || more.length > 0) throw new Error("--solo needs exactly one target");
  const warmup = Number(flags.warmup ?? REQUESTS);
  await measure(target.run, warmup);
  // With --marks, `process.getgid()` between blocks marks them for `valgrind --dump-before=getgid`: each
  // block's instructions land in a dump of their own (block 1: --requests, block 2: twice as many).
  if (flags.marks) process.getgid?.();
  const us = await measure(target.run);
  if (flags.marks) {
    process.getgid?.();
    await measure(target.run, 2 * REQUESTS);
    process.getgid?.();
  }
  console.log(`${target.label}: ${us.toFixed(2)} µs CPU per request (${REQUESTS} requests after ${warmup})`);
  process.exit(0);
}
const chosen = targets.filter((t) => t.name === "plain" || picked(t));
const first = await chosen.find((t) => t.name === "cached")?.run();
if (first && first.headers.get("x-cache-status") !== "Miss") throw new Error("the cache was not empty");
for (const target of chosen) await measure(target.run); // JIT warm-up; the cache is hot from here on
const cacheStatus = (await chosen.find((t) => t.name === "cached")?.run())?.headers.get("x-cache-status");
if (cacheStatus !== undefined && cacheStatus !== "Hit") throw new Error(`cache status ${cacheStatus}`);

// Each target's block sits next to a block of the plain route (the order alternating), so both see the same
// moment of a machine whose speed changes by the second; the median of many paired differences is the figure.
const plainTarget = chosen.find((t) => t.name === "plain")!;
const others = chosen.filter((t) => t !== plainTarget);
const samples = new Map<string, number[]>(chosen.map((t) => [t.name, []]));
const extras = new Map<string, number[]>(others.map((t) => [t.name, []]));
for (let round = 0; round < ROUNDS; round++)
  for (let i = 0; i < others.length; i++) {
    const target = others[(round + i) % others.length]!;
    const plainFirst = round % 2 === 0;
    const a = await measure(plainFirst ? plainTarget.run : target.run);
    const b = await measure(plainFirst ? target.run : plainTarget.run);
    const [plainUs, targetUs] = plainFirst ? [a, b] : [b, a];
    samples.get("plain")!.push(plainUs);
    samples.get(target.name)!.push(targetUs);
    extras.get(target.name)!.push(targetUs - plainUs);
  }
await accessLog.close?.();
rmSync(work, { recursive: true, force: true });

const plainUs = median(samples.get("plain")!);
console.log(
  `| target | CPU µs per request (median of ${ROUNDS} blocks) | extra over the plain route: median of paired blocks (interquartile) | extra % |`,
);
console.log("|---|---|---|---|");
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * q)]!;
for (const target of chosen) {
  const own = samples.get(target.name)!;
  const extra = extras.get(target.name);
  const show = extra
    ? [
        `${median(extra).toFixed(2)} (${quantile(extra, 0.25).toFixed(2)} – ${quantile(extra, 0.75).toFixed(2)})`,
        `${((100 * median(extra)) / plainUs).toFixed(1)} %`,
      ]
    : ["–", "–"];
  console.log(`| ${target.label} | ${median(own).toFixed(2)} | ${show[0]} | ${show[1]} |`);
}
const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
console.log(
  `\nload average ${load}; ${REQUESTS} requests per block, one at a time; plain route blocks: ${samples.get("plain")!.length}`,
);
