// Two running proxy processes compared end to end, ABBA: CPU µs per request of each under the same wrk load,
// for two builds (or two configurations) of Portico, or Portico and a floor script. Each round runs each
// side twice (ABBA, BAAB on even rounds) and keeps each side's cheaper run; the ratio is taken within the
// round, and the median and interquartile range over rounds are printed. Two separate processes on the same
// core and the same route resolve a difference of ~1–2 % here (the same-process pairs of run.ts, which
// alternate two routes of one process, spread by 5–10 points): use it to measure one change.
//
//   bun bench/ab.ts <pid A> <url A> <pid B> <url B> [--rounds 12] [--duration 2] [--connections 50]
//                   [--header "apikey: k"]
//
// The processes are started by hand, pinned to the proxy's core (`taskset -c 1 …`); wrk runs on core 0, as in
// run.ts (an upstream nginx belongs on core 0 too). Warm both up first (one wrk run each). Not a test:
// nothing here asserts.
import { parseArgs } from "node:util";
import { cpuTicks } from "./processes.ts";

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "12" },
    duration: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    header: { type: "string" },
  },
});
const [pidA, urlA, pidB, urlB] = positionals;
if (pidA === undefined || urlA === undefined || pidB === undefined || urlB === undefined) {
  console.error("usage: bun bench/ab.ts <pid A> <url A> <pid B> <url B> [--rounds N] [--duration S]");
  process.exit(2);
}

const CLK_TCK = 100;

/** CPU µs per request of `pid` while wrk loads `url`. */
function cpuPerRequest(pid: number, url: string): number {
  const before = cpuTicks(pid);
  const header = flags.header === undefined ? [] : ["-H", flags.header];
  const run = Bun.spawnSync([
    "taskset",
    "-c",
    "0",
    "wrk",
    "-t1",
    `-c${flags.connections}`,
    `-d${flags.duration}s`,
    ...header,
    url,
  ]);
  const ticks = cpuTicks(pid) - before;
  const requests = Number(/(\d+) requests in/.exec(run.stdout.toString())?.[1] ?? Number.NaN);
  return (ticks * (1_000_000 / CLK_TCK)) / requests;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const sides = { A: { pid: Number(pidA), url: urlA }, B: { pid: Number(pidB), url: urlB } };
const ratios: number[] = [];
console.log("| round | A µs/req | B µs/req | B ÷ A − 1 |\n|---|---|---|---|");
for (let round = 1; round <= Number(flags.rounds); round++) {
  const order = round % 2 === 1 ? (["A", "B", "B", "A"] as const) : (["B", "A", "A", "B"] as const);
  const runs = { A: [] as number[], B: [] as number[] };
  for (const side of order) runs[side].push(cpuPerRequest(sides[side].pid, sides[side].url));
  const a = Math.min(...runs.A);
  const b = Math.min(...runs.B);
  ratios.push(b / a - 1);
  console.log(`| ${round} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${((b / a - 1) * 100).toFixed(1)} % |`);
}
ratios.sort((x, y) => x - y);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
console.log(
  `\nB costs ${pct(quantile(ratios, 0.5))} more CPU per request than A (median of ${ratios.length} rounds; interquartile ${pct(quantile(ratios, 0.25))} … ${pct(quantile(ratios, 0.75))}).`,
);
