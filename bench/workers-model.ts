// Why the proxy workers are threads (issue 10), measured rather than assumed. Not a test: nothing asserts.
//
//   bun bench/workers-model.ts [--rounds 3] [--duration 5]
//
// 1. Serving: two `Bun.serve` listeners on one port (reusePort), answering 100 B, run as two worker threads
//    of one process against two child processes; wrk -c50, both models in every round, order alternated.
// 2. Sharing a counter across workers: `Atomics.add` on a SharedArrayBuffer (what threads allow) against a
//    message round trip to the owner (what processes would need: IPC to a parent; shown for threads too).
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, duration: { type: "string", default: "5" } },
});
// The port is written into the source: a worker thread does not see the parent's later process.env changes.
const server = (port: number) => `
const body = "x".repeat(100);
const server = Bun.serve({ port: ${port}, reusePort: true, fetch: () => new Response(body) });
if (Bun.isMainThread) process.send?.("up");
else self.postMessage("up");
`;
const CHILD_ECHO = `process.on("message", (m) => process.send(m));`;
const THREAD_ECHO = `self.onmessage = (e) => self.postMessage(e.data);`;

const source = (code: string) => URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
const scratch = `${process.env.TMPDIR ?? "/tmp"}/portico-workers-model-${process.pid}`;
async function serverFile(port: number): Promise<string> {
  const file = `${scratch}-${port}.ts`;
  await Bun.write(file, server(port));
  return file;
}

async function threads(port: number): Promise<() => void> {
  const file = await serverFile(port);
  const workers = [new Worker(file), new Worker(file)];
  await Promise.all(workers.map((w) => new Promise((resolve) => w.addEventListener("message", resolve))));
  return () => {
    for (const w of workers) w.terminate();
  };
}

async function processes(port: number): Promise<() => void> {
  let up = 0;
  let ready: () => void = () => {};
  const allUp = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const file = await serverFile(port);
  const children = [0, 1].map(() =>
    Bun.spawn([process.execPath, file], {
      ipc: () => {
        if (++up === 2) ready();
      },
      stdout: "inherit",
      stderr: "inherit",
    }),
  );
  await allUp;
  return () => {
    for (const c of children) c.kill();
  };
}

function wrk(port: number): number {
  const run = Bun.spawnSync(["wrk", "-t1", "-c50", `-d${flags.duration}s`, `http://127.0.0.1:${port}/`]);
  const match = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout.toString());
  if (!match) throw new Error(`wrk failed: ${run.stderr.toString()}`);
  return Number(match[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number[]> = { threads: [], processes: [] };
const models = { threads, processes };
const rounds = Number(flags.rounds);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? (["threads", "processes"] as const) : (["processes", "threads"] as const);
  for (const name of order) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const stop = await models[name](port);
    wrk(port); // warm-up, discarded
    results[name]!.push(wrk(port));
    stop();
    await Bun.sleep(200);
  }
}

// Sharing a counter.
const shared = new Int32Array(new SharedArrayBuffer(4));
const N = 20_000_000;
const start = Bun.nanoseconds();
for (let i = 0; i < N; i++) Atomics.add(shared, 0, 1);
const atomicNs = (Bun.nanoseconds() - start) / N;

async function roundTrips(send: (n: number) => void, onReply: (cb: () => void) => void, n: number) {
  let left = n;
  return new Promise<number>((resolve) => {
    const begin = Bun.nanoseconds();
    onReply(() => {
      if (--left === 0) resolve((Bun.nanoseconds() - begin) / n / 1000);
      else send(left);
    });
    send(left);
  });
}
const echoThread = new Worker(source(THREAD_ECHO));
const threadUs = await roundTrips(
  (n) => echoThread.postMessage(n),
  (cb) => echoThread.addEventListener("message", cb),
  20_000,
);
echoThread.terminate();
let childReply: () => void = () => {};
const echoFile = `${scratch}-echo.ts`;
await Bun.write(echoFile, CHILD_ECHO);
const child = Bun.spawn([process.execPath, echoFile], { ipc: () => childReply(), stdout: "inherit" });
const processUs = await roundTrips(
  (n) => child.send(n),
  (cb) => {
    childReply = cb;
  },
  20_000,
);
child.kill();
for (const file of new Bun.Glob(`${scratch.split("/").pop()}-*.ts`).scanSync(dirname(scratch)))
  await Bun.file(join(dirname(scratch), file)).delete();

const [t, p] = [median(results.threads!), median(results.processes!)];
console.log(`\nTwo reusePort listeners, 100 B, wrk -c50, ${rounds} rounds (Bun ${Bun.version}):\n`);
console.log("| model | rps (median) | per round |\n|---|---|---|");
for (const [name, xs] of Object.entries(results))
  console.log(`| ${name} | ${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(", ")} |`);
console.log(`\nthreads ÷ processes: ${(t / p).toFixed(2)}\n`);
console.log("| sharing one counter | cost per operation |\n|---|---|");
console.log(`| Atomics.add on a SharedArrayBuffer | ${atomicNs.toFixed(1)} ns |`);
console.log(`| postMessage round trip to a worker thread | ${threadUs.toFixed(1)} µs |`);
console.log(`| IPC round trip to a child process | ${processUs.toFixed(1)} µs |`);
process.exit(0);
