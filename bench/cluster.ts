// Benchmark for workers and clusters (not a test: nothing here asserts).
//
//   bun bench/cluster.ts [--rounds 3] [--duration 5] [--writes 200] [--no-build]
//
// 1. Throughput with 1 and 2 proxy workers against nginx with 1 and 2 worker processes: GET 100 B, c50,
//    every target measured in each round, rotating which goes first. On this 2-core machine nothing is pinned
//    here (two workers need both cores): wrk (1 thread) and the upstream nginx share the machine with the
//    proxy under test, identically for every target, so compare ratios within a round, not absolute rps.
// 2. Propagation: two nodes (the compiled binary, 2 workers each) on one PostgreSQL database; each of
//    `--writes` routes is created on node A and node B's proxy is polled until it serves it. Reports the
//    delay from the write's start and from A's answer (p50 / p99 / max).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SQL } from "bun";
import { log, spawnInto, waitFor } from "./processes.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    writes: { type: "string", default: "200" },
    "no-build": { type: "boolean", default: false },
  },
});
const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "portico");
const PG_URL = process.env.PORTICO_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const work = mkdtempSync(join(tmpdir(), "portico-bench-cluster-"));
const children: Bun.Subprocess[] = [];

const spawn = (cmd: string[]) => spawnInto(children, cmd, work);

/** nginx with `workers` worker processes; `server` is its one server block. */
function nginx(name: string, workers: number, server: string): Bun.Subprocess {
  const dir = join(work, name);
  mkdirSync(join(dir, "logs"), { recursive: true });
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
worker_processes ${workers};
error_log ${join(dir, "logs", "error.log")} warn;
pid ${join(dir, "nginx.pid")};
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  ${server}
}
`,
  );
  return spawn(["/usr/sbin/nginx", "-p", dir, "-c", conf]);
}

function wrkRps(url: string, seconds: number): number {
  const out = Bun.spawnSync(["wrk", "-t1", "-c50", `-d${seconds}s`, url], {
    stdout: "pipe",
  }).stdout.toString();
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!;

async function porticoNode(name: string, database: string, proxy: number, admin: number, workers: number) {
  spawn([
    BINARY,
    "start",
    "--database",
    database,
    "--proxy-listen",
    `127.0.0.1:${proxy}`,
    "--admin-listen",
    `127.0.0.1:${admin}`,
    "--workers",
    String(workers),
  ]);
  await waitFor(`http://127.0.0.1:${admin}/status`);
  log(`${name} up (${workers} workers)`);
  return { proxy: `http://127.0.0.1:${proxy}`, admin: `http://127.0.0.1:${admin}` };
}

async function post(admin: string, path: string, body: unknown) {
  const res = await fetch(`${admin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res;
}

async function throughput(rounds: number, seconds: number) {
  const root = join(work, "www");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "100b"), "x".repeat(100));
  nginx("upstream", 1, `server { listen 127.0.0.1:19080; root ${root}; }`);
  const proxyBlock = (port: number) =>
    `upstream up { server 127.0.0.1:19080; keepalive 64; }
  server { listen 127.0.0.1:${port}; location /bench/ { proxy_pass http://up/; proxy_http_version 1.1;
    proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } }`;
  nginx("nginx-1", 1, proxyBlock(19081));
  nginx("nginx-2", 2, proxyBlock(19082));
  const targets: Record<string, string> = {
    "nginx, 1 worker": "http://127.0.0.1:19081/bench/100b",
    "nginx, 2 workers": "http://127.0.0.1:19082/bench/100b",
  };
  for (const workers of [1, 2]) {
    const node = await porticoNode(
      `portico-${workers}`,
      ":memory:",
      19000 + workers * 10,
      19001 + workers * 10,
      workers,
    );
    await post(node.admin, "/services", { name: "up", url: "http://127.0.0.1:19080" });
    await post(node.admin, "/services/up/routes", { paths: ["/bench"] });
    targets[`Portico, ${workers} worker${workers > 1 ? "s" : ""}`] = `${node.proxy}/bench/100b`;
  }
  for (const url of Object.values(targets)) await waitFor(url);
  const names = Object.keys(targets);
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) {
      const rps = wrkRps(targets[name]!, seconds);
      samples.get(name)!.push(rps);
      log(`round ${round + 1}: ${name} ${rps.toFixed(0)} rps`);
    }
  }
  console.log("\n| target | rps (median) | per round |\n|---|---|---|");
  for (const name of names) {
    const values = samples.get(name)!;
    console.log(`| ${name} | ${median(values).toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(", ")} |`);
  }
  const m = (name: string) => median(samples.get(name)!);
  console.log(
    `\nPortico 2 workers ÷ 1 worker: ${(m("Portico, 2 workers") / m("Portico, 1 worker")).toFixed(2)}; ` +
      `nginx 2 ÷ 1: ${(m("nginx, 2 workers") / m("nginx, 1 worker")).toFixed(2)}; ` +
      `Portico ÷ nginx with 1: ${(m("Portico, 1 worker") / m("nginx, 1 worker")).toFixed(2)}, with 2: ${(m("Portico, 2 workers") / m("nginx, 2 workers")).toFixed(2)}`,
  );
}

async function propagation(writes: number) {
  const name = `portico_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new SQL(PG_URL, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  try {
    const upstream = Bun.serve({ hostname: "127.0.0.1", port: 19090, fetch: () => new Response("ok") });
    const a = await porticoNode("node A", url.toString(), 19100, 19101, 2);
    const b = await porticoNode("node B", url.toString(), 19110, 19111, 2);
    await post(a.admin, "/services", { name: "up", url: `http://127.0.0.1:${upstream.port}` });
    const fromStart: number[] = [];
    const fromAnswer: number[] = [];
    const ownAnswer: number[] = [];
    for (let i = 0; i < writes; i++) {
      const start = performance.now();
      await post(a.admin, "/services/up/routes", { paths: [`/p${i}`] });
      const answered = performance.now();
      ownAnswer.push(answered - start);
      for (;;) {
        const res = await fetch(`${b.proxy}/p${i}`);
        await res.arrayBuffer();
        if (res.status === 200) break;
        await Bun.sleep(1);
      }
      const served = performance.now();
      fromStart.push(served - start);
      fromAnswer.push(served - answered);
    }
    upstream.stop(true);
    const row = (label: string, v: number[]) =>
      `| ${label} | ${median(v).toFixed(1)} | ${quantile(v, 0.99).toFixed(1)} | ${Math.max(...v).toFixed(1)} |`;
    console.log(
      `\nPropagation over ${writes} writes (ms):\n\n| delay | p50 | p99 | max |\n|---|---|---|---|`,
    );
    console.log(row("write on A answered (served by A's workers)", ownAnswer));
    console.log(row("write on A started → served by B", fromStart));
    console.log(row("A's answer → served by B", fromAnswer));
  } finally {
    for (const child of children.splice(0)) child.kill();
    await Bun.sleep(300);
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  }
}

try {
  if (!flags["no-build"])
    Bun.spawnSync([process.execPath, join(ROOT, "scripts", "build.ts")], { stdout: "inherit" });
  log(`load average: ${(await Bun.file("/proc/loadavg").text()).trim()}`);
  await throughput(Number(flags.rounds), Number(flags.duration));
  for (const child of children.splice(0)) child.kill();
  await Bun.sleep(300);
  await propagation(Number(flags.writes));
  log(`load average: ${(await Bun.file("/proc/loadavg").text()).trim()}`);
} finally {
  for (const child of children) child.kill();
  rmSync(work, { recursive: true, force: true });
}
