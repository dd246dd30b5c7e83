// proxy-cache with several proxy workers: each keeps its own memory (per-worker) — what that costs, and what
// one cache shared by the workers would cost instead. Not a test: nothing asserts.
//
//   bun bench/cache-sharing.ts [--rounds 5] [--keys 200]
//
// 1. Misses and memory, per worker count (1, 2): a Portico process (`bun src/main.ts start`) with one
//    proxy-cache route on a counting upstream; each of `keys` URLs (64 KiB bodies) is requested on 16 fresh
//    connections (the kernel spreads them over the workers). Reported: how many requests reached the upstream
//    (a shared cache: one per URL) and the process's VmRSS before and after (all threads).
// 2. What a shared cache would add to each hit: a hit's body must come from the thread that owns the memory.
//    A message round trip to another thread carrying the body (the owner answers with a copy), and a copy out
//    of a SharedArrayBuffer (a shared store without messages still copies the body out for its Response),
//    against the per-worker lookup (a Map get). CPU µs per operation over 20,000 sequential operations,
//    `rounds` rounds alternating the order; medians and ranges.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { log, spawnInto, waitFor } from "./processes.ts";

const { values: flags } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, keys: { type: "string", default: "200" } },
});
const ROUNDS = Number(flags.rounds);
const KEYS = Number(flags.keys);
const ROOT = join(import.meta.dir, "..");
const BODY = new Uint8Array(64 * 1024).fill(120);

const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function missesAndMemory(workers: number) {
  let fetched = 0;
  const upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      fetched++;
      return new Response(BODY, { headers: { "content-type": "text/plain" } });
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "portico-cache-sharing-"));
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const children: Bun.Subprocess[] = [];
  const portico = spawnInto(
    children,
    [
      process.execPath,
      "src/main.ts",
      "start",
      "--database",
      join(dir, "p.db"),
      "--proxy-listen",
      `127.0.0.1:${proxyPort}`,
      "--admin-listen",
      `127.0.0.1:${adminPort}`,
      "--workers",
      String(workers),
    ],
    ROOT,
  );
  try {
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    await waitFor(`${adminUrl}/status`);
    const post = (path: string, body: unknown) =>
      fetch(`${adminUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ id: string }>);
    const svc = await post("/services", { url: `http://127.0.0.1:${upstream.port}` });
    const route = await post(`/services/${svc.id}/routes`, { paths: ["/c"] });
    await post(`/routes/${route.id}/plugins`, { name: "proxy-cache", config: { strategy: "memory" } });
    await Bun.sleep(500);
    for (let i = 0; i < 20; i++)
      await (await fetch(`http://127.0.0.1:${proxyPort}/c?warm=${i}`)).arrayBuffer();
    Bun.gc(true);
    const before = rssKiB(portico.pid);
    const start = fetched;
    for (let k = 0; k < KEYS; k++)
      for (let c = 0; c < 16; c++) {
        const res = await fetch(`http://127.0.0.1:${proxyPort}/c?k=${k}`, {
          headers: { connection: "close" },
        });
        await res.arrayBuffer();
      }
    await Bun.sleep(300);
    return { workers, upstreamFetches: fetched - start, rssGrowthMiB: (rssKiB(portico.pid) - before) / 1024 };
  } finally {
    portico.kill();
    await portico.exited;
    upstream.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

const OWNER = `
const store = new Map();
self.onmessage = (e) => {
  const { key, size } = e.data;
  let body = store.get(size);
  if (body === undefined) store.set(size, (body = new Uint8Array(size).fill(120)));
  self.postMessage({ key, body: body.slice() });
};`;

/** CPU µs per operation of `op` over `count` sequential runs. */
async function cpuPer(count: number, op: () => unknown | Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await op();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

async function sharingCosts() {
  const owner = new Worker(URL.createObjectURL(new Blob([OWNER], { type: "text/javascript" })));
  let answer: (value: unknown) => void = () => {};
  owner.onmessage = (e) => answer(e.data);
  const roundTrip = (size: number) =>
    new Promise((resolve) => {
      answer = resolve;
      owner.postMessage({ key: "k", size });
    });
  const local = new Map<string, Uint8Array>([["k", BODY]]);
  const shared = new Uint8Array(new SharedArrayBuffer(64 * 1024));
  const lock = new Int32Array(new SharedArrayBuffer(4));
  const sizes = [1024, 16 * 1024, 64 * 1024];
  const kinds = [
    ...sizes.map((size) => ({
      name: `message round trip, ${size / 1024} KiB body`,
      op: () => roundTrip(size),
    })),
    ...sizes.map((size) => ({
      name: `SharedArrayBuffer copy under a lock, ${size / 1024} KiB`,
      op: () => {
        while (Atomics.compareExchange(lock, 0, 0, 1) !== 0);
        const copy = shared.slice(0, size);
        Atomics.store(lock, 0, 0);
        return copy;
      },
    })),
    { name: "per-worker Map lookup", op: () => local.get("k") },
  ];
  const results = new Map<string, number[]>(kinds.map((k) => [k.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? kinds : [...kinds].reverse();
    for (const kind of order) {
      await cpuPer(500, kind.op);
      results.get(kind.name)!.push(await cpuPer(20_000, kind.op));
    }
  }
  owner.terminate();
  return results;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

log(`load average: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
for (const workers of [1, 2]) {
  const r = await missesAndMemory(workers);
  log(
    `--workers ${r.workers}: ${KEYS} URLs × 16 fresh connections → ${r.upstreamFetches} upstream fetches ` +
      `(${(r.upstreamFetches / KEYS).toFixed(2)} per URL); RSS +${r.rssGrowthMiB.toFixed(1)} MiB ` +
      `(bodies: ${((KEYS * BODY.byteLength) / 2 ** 20).toFixed(1)} MiB per copy)`,
  );
}
for (const [name, values] of await sharingCosts())
  log(
    `${name}: median ${median(values).toFixed(2)} µs CPU/op (range ${Math.min(...values).toFixed(2)}–` +
      `${Math.max(...values).toFixed(2)}, ${values.length} rounds)`,
  );
log(`load average: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
