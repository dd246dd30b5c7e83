// Declarative configuration at scale (issue 14): a file of N routes (10 per service) parsed, diffed against an
// empty and an equal store, applied in one transaction, and reloaded whole many times (alternating two
// variants, so each reload rewrites every route) while the heap and RSS are sampled after a forced GC.
//
//   bun bench/declarative.ts [--routes 10000] [--reloads 100] [--database :memory:|FILE|postgres://…]
//
// Reports wall and CPU milliseconds (process.cpuUsage: user + system of this process, which the shared
// machine's load moves far less than wall time) per step, and memory at the first and last reloads.
// Not a test: nothing asserts. The proxy's snapshot rebuild is not included (see README: one per apply).
import { parseArgs } from "node:util";
import { loadText, syncDocuments } from "../src/declarative/index.ts";
import { openStore } from "../src/store/open.ts";

const { values } = parseArgs({
  options: {
    routes: { type: "string", default: "10000" },
    reloads: { type: "string", default: "100" },
    database: { type: "string", default: ":memory:" },
  },
});
const routes = Number(values.routes);
const reloads = Number(values.reloads);

function file(variant: string): string {
  const lines = ['_format_version: "3.0"', "services:"];
  for (let s = 0; s < routes / 10; s++) {
    lines.push(`  - name: svc-${s}`, `    url: http://10.0.${s % 250}.1:8080`, "    routes:");
    for (let r = 0; r < 10; r++)
      lines.push(`      - name: r-${s}-${r}`, `        paths: [/${variant}/s${s}/r${r}]`);
  }
  return `${lines.join("\n")}\n`;
}

async function timed<T>(label: string, work: () => Promise<T> | T): Promise<T> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  console.log(
    `${label.padEnd(34)} ${(performance.now() - start).toFixed(0).padStart(6)} ms wall ${((used.user + used.system) / 1000).toFixed(0).padStart(6)} ms CPU`,
  );
  return result;
}

function memory(): string {
  Bun.gc(true);
  const { rss, heapUsed } = process.memoryUsage();
  return `rss ${(rss / 2 ** 20).toFixed(1)} MiB, heap ${(heapUsed / 2 ** 20).toFixed(1)} MiB`;
}

const store = await openStore(values.database);
const texts = [file("a"), file("b")];
console.log(`${routes} routes, ${routes / 10} services; ${(texts[0]!.length / 1024).toFixed(0)} KiB of YAML`);
const doc = await timed("parse + check the file", () => loadText(texts[0]!, "bench.yaml"));
await timed("diff against an empty store", () => syncDocuments(store, [doc], { dryRun: true }));
await timed("apply (one transaction)", () => syncDocuments(store, [doc]));
await timed("diff against an equal store", () => syncDocuments(store, [doc], { dryRun: true }));

let first = "";
const reloadCpu = process.cpuUsage();
for (let i = 1; i <= reloads; i++) {
  await syncDocuments(store, [loadText(texts[i % 2]!, "bench.yaml")], { wholeConfiguration: true });
  if (i === 1) first = memory();
  if (i === 1 || i === reloads) console.log(`after reload ${String(i).padStart(3)}: ${memory()}`);
}
const used = process.cpuUsage(reloadCpu);
console.log(
  `reloads: ${((used.user + used.system) / 1000 / reloads).toFixed(0)} ms CPU each (first: ${first})`,
);
await store.close();
