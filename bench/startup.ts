// Start-up: from exec to the first answer of the admin API, Portico's compiled binary against a minimal
// compiled `Bun.serve` binary (Bun's floor), built with the same flags and measured side by side.
//
//   bun bench/startup.ts [--runs 21] [--idle-ms 300] [--compare path/to/other/portico]
//
// Each round starts every binary once, in an order that rotates per round: Portico on a new database file
// (first start: migrations), Portico on the database a previous run left (a restart), the same with
// `--workers 1` (the default, auto, starts one proxy worker thread per core), and the minimal server.
// One more Portico run gives the proxy a fixed port, as a deployment does (Kong's 8000). With port 0 the main
// thread reserves the port the workers then join, so in every configuration `GET /` answers (naming the
// proxy port) while the workers still start.
// --compare adds another Portico binary (say, one built from main) on its own existing database, so that a
// change is measured against its baseline in the same run.
// One run: spawn → read stdout until the listening line names the admin address → GET / → answer read.
// Right after the answer, the CPU time the process has used so far is summed over its threads from
// /proc/<pid>/task/*/schedstat (nanoseconds; unlike wall time it barely moves when other work shares the
// machine). Then the process idles for --idle-ms, VmRSS is read from /proc and it gets SIGTERM.
// Prints medians, ratios to the minimal binary (of the medians, and the median of each round's own ratio, which
// load that drifts during the run moves less), binary sizes, idle RSS and the load average at the start and
// the end. Not a test: nothing asserts.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildStamp, compile, PORTICO_ENTRIES } from "../scripts/compile.ts";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "21" },
    "idle-ms": { type: "string", default: "300" },
    compare: { type: "string" },
  },
});
const RUNS = Number(flags.runs);
const IDLE_MS = Number(flags["idle-ms"]);

const work = mkdtempSync(join(tmpdir(), "portico-startup-"));

const MINIMAL_SOURCE = `const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({ ok: true }) });
console.log(\`admin API listening on \${server.url.origin}\`);
`;

type Candidate = {
  name: string;
  binary: string;
  args: string[];
  cwd: () => string;
  times: number[];
  cpu: number[];
  rss: number[];
  /** Per round: this run's wall time ÷ the minimal binary's in the same round. */
  ratios: number[];
};

function log(line: string) {
  process.stderr.write(`${line}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CPU time used so far by every thread of the process, in ms. */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`))
    ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
  return ns / 1e6;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kib / 1024;
}

/** Reads stdout until a line names the admin listener; returns its URL. */
async function adminUrlOf(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`exited before listening:\n${text}`);
    text += decoder.decode(chunk.value, { stream: true });
    const url = /admin API listening on (\S+)/.exec(text)?.[1];
    if (url) {
      reader.releaseLock();
      return url;
    }
  }
}

async function runOnce(candidate: Candidate): Promise<void> {
  const started = performance.now();
  const proc = Bun.spawn([candidate.binary, ...candidate.args], {
    cwd: candidate.cwd(),
    env: { PATH: process.env.PATH ?? "" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    const url = await adminUrlOf(proc.stdout);
    const response = await fetch(`${url}/`);
    await response.arrayBuffer();
    const elapsed = performance.now() - started;
    const cpu = cpuMs(proc.pid);
    if (response.status !== 200) throw new Error(`${candidate.name}: GET / answered ${response.status}`);
    candidate.times.push(elapsed);
    candidate.cpu.push(cpu);
    await Bun.sleep(IDLE_MS);
    candidate.rss.push(rssMiB(proc.pid));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];

/** A port free right now (the system's pick, released at once): a bench may race for it; a test must not. */
function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

try {
  log("building both binaries with the release flags (scripts/compile.ts)…");
  const portico = compile({
    entries: PORTICO_ENTRIES,
    outfile: join(work, "portico"),
    stamp: buildStamp(),
    quiet: true,
  });
  const minimalSource = join(work, "minimal.ts");
  writeFileSync(minimalSource, MINIMAL_SOURCE);
  const minimal = compile({ entries: [minimalSource], outfile: join(work, "minimal"), quiet: true });

  const candidate = (name: string, binary: string, args: string[], cwd: () => string): Candidate => ({
    name,
    binary,
    args,
    cwd,
    times: [],
    cpu: [],
    rss: [],
    ratios: [],
  });
  const fixedDir = (prefix: string) => {
    const dir = mkdtempSync(join(work, prefix));
    return () => dir;
  };
  const auto = `--workers auto = ${navigator.hardwareConcurrency}`;
  const candidates: Candidate[] = [
    candidate(`Portico (${auto}), new database`, portico, LOOPBACK, () => mkdtempSync(join(work, "fresh-"))),
    candidate(`Portico (default: ${auto}), existing database`, portico, LOOPBACK, fixedDir("restart-")),
    candidate(
      `Portico (${auto}), existing database, fixed proxy port`,
      portico,
      ["--proxy-listen", `127.0.0.1:${freePort()}`, "--admin-listen", "127.0.0.1:0"],
      fixedDir("fixed-"),
    ),
    candidate(
      "Portico --workers 1, existing database",
      portico,
      [...LOOPBACK, "--workers", "1"],
      fixedDir("one-"),
    ),
    ...(flags.compare
      ? [candidate(`${flags.compare}, existing database`, flags.compare, LOOPBACK, fixedDir("compare-"))]
      : []),
    candidate("minimal Bun.serve", minimal, [], () => work),
  ];
  // Creates the restart database, and warms the page cache for every binary.
  for (const candidate of candidates) await runOnce(candidate);
  for (const candidate of candidates) {
    candidate.times.length = 0;
    candidate.cpu.length = 0;
    candidate.rss.length = 0;
  }

  const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const loadBefore = loadAverage();
  const floor = candidates.at(-1)!;
  for (let run = 0; run < RUNS; run++) {
    const order = candidates.map((_, i) => candidates[(i + run) % candidates.length]!);
    for (const candidate of order) await runOnce(candidate);
    for (const c of candidates) c.ratios.push(c.times.at(-1)! / floor.times.at(-1)!);
  }

  console.log(
    `\nStart-up, ${RUNS} alternated runs each, Bun ${Bun.version}, load average ${loadBefore} at the start, ${loadAverage()} at the end\n`,
  );
  console.log(
    "| binary | exec → first answer, median ms (min–max) | × minimal | × minimal, per round (median) | CPU ms to first answer, median | × minimal | size MB | idle RSS MiB |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const c of candidates) {
    const wall = median(c.times);
    const cpu = median(c.cpu);
    console.log(
      `| ${c.name} | ${wall.toFixed(1)} (${Math.min(...c.times).toFixed(1)}–${Math.max(...c.times).toFixed(1)}) | ${(wall / median(floor.times)).toFixed(2)} | ${median(c.ratios).toFixed(2)} | ${cpu.toFixed(1)} | ${(cpu / median(floor.cpu)).toFixed(2)} | ${(statSync(c.binary).size / 1e6).toFixed(1)} | ${median(c.rss).toFixed(1)} |`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
