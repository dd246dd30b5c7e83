// Start-up: from exec to the first answer of the admin API, Portico's compiled binary against a minimal
// compiled `Bun.serve` binary (Bun's floor), built with the same flags and measured side by side.
//
//   bun bench/startup.ts [--runs 21] [--idle-ms 300]
//
// Each round starts every binary once, in an order that rotates per round: Portico on a new database file
// (first start: migrations), Portico on the database a previous run left (a restart), and the minimal server.
// One run: spawn → read stdout until the listening line names the admin address → GET / → answer read.
// After the answer the process idles for --idle-ms, then VmRSS is read from /proc and it gets SIGTERM.
// Prints medians, the ratio to the minimal binary, binary sizes and idle RSS. Not a test: nothing asserts.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildStamp, compile, PORTICO_ENTRIES } from "../scripts/compile.ts";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "21" },
    "idle-ms": { type: "string", default: "300" },
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
  args: (run: number) => string[];
  cwd: (run: number) => string;
  times: number[];
  rss: number[];
};

function log(line: string) {
  process.stderr.write(`${line}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
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

async function runOnce(candidate: Candidate, run: number): Promise<void> {
  const started = performance.now();
  const proc = Bun.spawn([candidate.binary, ...candidate.args(run)], {
    cwd: candidate.cwd(run),
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
    if (response.status !== 200) throw new Error(`${candidate.name}: GET / answered ${response.status}`);
    candidate.times.push(elapsed);
    await Bun.sleep(IDLE_MS);
    candidate.rss.push(rssMiB(proc.pid));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

const LOOPBACK = ["--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];

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

  const restartDir = mkdtempSync(join(work, "restart-"));
  const candidates: Candidate[] = [
    {
      name: "Portico, new database",
      binary: portico,
      args: () => LOOPBACK,
      cwd: () => mkdtempSync(join(work, "fresh-")),
      times: [],
      rss: [],
    },
    {
      name: "Portico, existing database",
      binary: portico,
      args: () => LOOPBACK,
      cwd: () => restartDir,
      times: [],
      rss: [],
    },
    { name: "minimal Bun.serve", binary: minimal, args: () => [], cwd: () => work, times: [], rss: [] },
  ];
  // Creates the restart database, and warms the page cache for every binary.
  for (const candidate of candidates) await runOnce(candidate, -1);
  for (const candidate of candidates) {
    candidate.times.length = 0;
    candidate.rss.length = 0;
  }

  for (let run = 0; run < RUNS; run++) {
    const order = candidates.map((_, i) => candidates[(i + run) % candidates.length]!);
    for (const candidate of order) await runOnce(candidate, run);
  }

  const floor = median(candidates[2]!.times);
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`\nStart-up, ${RUNS} alternated runs each, Bun ${Bun.version}, load average ${load}\n`);
  console.log("| binary | median ms | min–max ms | × minimal | size MB | idle RSS MiB (median) |");
  console.log("|---|---|---|---|---|---|");
  for (const candidate of candidates) {
    const size = statSync(candidate.binary).size / 1e6;
    console.log(
      `| ${candidate.name} | ${median(candidate.times).toFixed(1)} | ${Math.min(...candidate.times).toFixed(1)}–${Math.max(...candidate.times).toFixed(1)} | ${(median(candidate.times) / floor).toFixed(2)} | ${size.toFixed(1)} | ${median(candidate.rss).toFixed(1)} |`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
