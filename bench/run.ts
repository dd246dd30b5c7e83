// Benchmark: Portico (the compiled binary) against nginx as a reverse proxy and against Bun's own floor
// (floor-passthrough.ts, floor-onechunk.ts, floor-headers.ts), same upstream, same machine.
//
//   bun bench/run.ts [--rounds 3] [--duration 5] [--no-build] [--only <scenario text>] [--pairs-only]
//                    [--pair <label text>]
//
// --only runs only the scenarios whose name contains the text (no 10,000-route run, no pairs).
// --pairs-only runs only the same-run plugin and log comparisons (key-auth + acl, key-auth + rate-limiting,
// prometheus, access log, cors + request- and response-transformer, proxy-cache hits against nginx, a service
// balanced over 2 targets), not the nginx scenarios and the 10,000-route comparison.
// --pair runs only the pairs whose label contains the text (implies --pairs-only): one budget measured over
// many rounds, which a 5 % budget needs (a single round moves by ±15 % on this VM). A pair's round runs each
// side twice, ABBA, and keeps each side's cheaper run (see runPairs): --duration is per run.
//
// Layout on this 2-core machine: wrk and the upstream nginx share core 0; the proxy under test runs alone on
// core 1 (taskset). Each scenario measures every target within a round, starting with a different one each
// round; ratios compare targets in the same round. CPU per request comes from /proc/<pid>/stat (utime + stime of the whole proxy process, all
// threads) before and after each wrk run. Prints a Markdown table. Not a test: nothing here asserts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nginxConf as nginxConfIn, PROXY_LOCATION } from "./nginx.ts";
import { cpuTicks, log, runToEnd, spawnInto, waitFor } from "./processes.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    "no-build": { type: "boolean", default: false },
    only: { type: "string" },
    "pairs-only": { type: "boolean", default: false },
    pair: { type: "string" },
  },
});
const ROUNDS = Number(flags.rounds);
const DURATION = Number(flags.duration);
const ROOT = join(import.meta.dir, "..");
/** BENCH_PORT_BASE moves every port, so two runs (two worktrees) can share the machine. */
const BASE = Number(process.env.BENCH_PORT_BASE ?? 18000);
const PORTS = {
  upstream: BASE + 80,
  nginx: BASE + 81,
  portico: BASE,
  admin: BASE + 1,
  big: BASE + 2,
  bigAdmin: BASE + 3,
  logged: BASE + 6,
  loggedAdmin: BASE + 7,
  floor: BASE + 4,
  floorHeaders: BASE + 5,
  floorOneChunk: BASE + 8,
};
const CLK_TCK = 100;
const LOAD_CORE = "0";
const PROXY_CORE = "1";

const work = mkdtempSync(join(tmpdir(), "portico-bench-"));
const children: Bun.Subprocess[] = [];

function run(cmd: string[], options: { cwd?: string } = {}): string {
  return runToEnd(cmd, options.cwd ?? ROOT);
}

const spawn = (cmd: string[], cwd = work) => spawnInto(children, cmd, cwd);

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

// --- upstream and nginx proxy -------------------------------------------------------------------------

const nginxConf = (name: string, server: string) => nginxConfIn(work, name, server);

function startUpstream(): void {
  const root = join(work, "www");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "100b"), "x".repeat(100));
  writeFileSync(join(root, "16k"), "y".repeat(16 * 1024));
  writeFileSync(join(root, "64k"), "z".repeat(64 * 1024));
  const conf = nginxConf(
    "upstream",
    `server {
    listen 127.0.0.1:${PORTS.upstream};
    root ${root};
    client_max_body_size 2m;
    client_body_buffer_size 2m;
    location = /return { return 200 "ok"; }
    location = /upload { return 200 "ok"; }
  }`,
  );
  spawn(["taskset", "-c", LOAD_CORE, "/usr/sbin/nginx", "-p", join(work, "upstream"), "-c", conf]);
}

function startNginxProxy(): Bun.Subprocess {
  // The same header work Portico does: Host, X-Real-IP, X-Forwarded-*, keep-alive to the upstream.
  const conf = nginxConf(
    "proxy",
    `upstream backend { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS.nginx};
    client_max_body_size 2m;
    ${PROXY_LOCATION}
  }`,
  );
  return spawn(["taskset", "-c", PROXY_CORE, "/usr/sbin/nginx", "-p", join(work, "proxy"), "-c", conf]);
}

// --- Bun's floor: the same upstream through minimal Bun.serve + fetch scripts ----------------------------

function startFloor(script: string, port: number): Bun.Subprocess {
  const upstream = `http://127.0.0.1:${PORTS.upstream}`;
  return spawn([
    "taskset",
    "-c",
    PROXY_CORE,
    process.execPath,
    join(ROOT, "bench", script),
    String(port),
    upstream,
  ]);
}

// --- Portico -------------------------------------------------------------------------------------------

const ADMIN = `http://127.0.0.1:${PORTS.admin}`;

async function adminCall(
  method: string,
  path: string,
  body?: unknown,
  admin: string = ADMIN,
): Promise<{ id: string }> {
  const res = await fetch(admin + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

function startPorticoOn(
  binary: string,
  database: string,
  ports: { proxy: number; admin: number } = { proxy: PORTS.portico, admin: PORTS.admin },
  extra: string[] = [],
): Bun.Subprocess {
  return spawn([
    "taskset",
    "-c",
    PROXY_CORE,
    binary,
    "start",
    // One proxy thread on the one core the proxy is given, as nginx's one worker process: more threads
    // on one core only add switches (the workers' own scaling is bench/cluster.ts's subject).
    "--workers",
    "1",
    "--database",
    database,
    "--proxy-listen",
    `127.0.0.1:${ports.proxy}`,
    "--admin-listen",
    `127.0.0.1:${ports.admin}`,
    ...extra,
  ]);
}

async function startPortico(
  binary: string,
  ports: { proxy: number; admin: number } = { proxy: PORTS.portico, admin: PORTS.admin },
  extra: string[] = [],
  database = join(work, "portico.db"),
): Promise<Bun.Subprocess> {
  const child = startPorticoOn(binary, database, ports, extra);
  const admin = `http://127.0.0.1:${ports.admin}`;
  await waitFor(`${admin}/status`);
  const service = await adminCall(
    "POST",
    "/services",
    { name: "nginx-upstream", url: `http://127.0.0.1:${PORTS.upstream}` },
    admin,
  );
  // The benchmarked route; the 10,000-route scenario adds more in front of it.
  await adminCall("POST", `/services/${service.id}/routes`, { name: "bench", paths: ["/bench"] }, admin);
  return child;
}

/** Waits until `url` answers 200 (a route or plugin just configured has reached every worker). */
async function until200(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await fetch(url, { headers })).status === 200) return;
    await Bun.sleep(20);
  }
  throw new Error(`${url} never answered 200`);
}

// --- wrk -----------------------------------------------------------------------------------------------

type Sample = { rps: number; p50: number; p99: number; requests: number; cpuUs: number; rss: number };

function parseDuration(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "ms" ? v : v * 1000;
}

function wrk(
  url: string,
  connections: number,
  script?: string,
  header?: string,
): { rps: number; p50: number; p99: number; requests: number } {
  const args = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", `-c${connections}`, `-d${DURATION}s`, "--latency"];
  if (script) args.push("-s", script);
  if (header) args.push("-H", header);
  const out = run([...args, url]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (errors) throw new Error(`wrk saw ${errors[1]} error responses from ${url}`);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: parseDuration(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ""),
    p99: parseDuration(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ""),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
  };
}

function measure(pid: number, url: string, connections: number, script?: string, header?: string): Sample {
  const before = cpuTicks(pid);
  const r = wrk(url, connections, script, header);
  const ticks = cpuTicks(pid) - before;
  return { ...r, cpuUs: (ticks * (1_000_000 / CLK_TCK)) / r.requests, rss: rssMiB(pid) };
}

// --- scenarios -----------------------------------------------------------------------------------------

type Scenario = { name: string; path: string; connections: number; script?: string };

const postScript = join(work, "post-1m.lua");
writeFileSync(
  postScript,
  `wrk.method = "POST"\nwrk.body = string.rep("p", 1048576)\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
);

const SCENARIOS: Scenario[] = [
  { name: "GET 100 B, c50", path: "/100b", connections: 50 },
  { name: "GET 100 B, c1 (latency)", path: "/100b", connections: 1 },
  { name: "GET 16 KiB, c50", path: "/16k", connections: 50 },
  { name: "GET 64 KiB, c50", path: "/64k", connections: 50 },
  { name: "POST 1 MiB, c10", path: "/upload", connections: 10, script: postScript },
];

/** The proxies compared in every scenario; efficiency is nginx's CPU µs ÷ the target's, in the same round. */
const TARGETS = ["nginx", "floor", "floorOneChunk", "floorHeaders", "portico"] as const;
type TargetName = (typeof TARGETS)[number];
const LABELS: Record<TargetName, string> = {
  nginx: "nginx",
  floor: "Bun floor (pass-through)",
  floorOneChunk: "Bun floor, one-chunk",
  floorHeaders: "Bun floor + header work",
  portico: "Portico",
};
type Target = { pid: number; base: string };

type Row = { scenario: string; round: number; samples: Record<TargetName, Sample> };

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "–";
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The value below which a share `q` of the values lie (nearest rank). */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * q))]!;
}

type Pair = {
  label: string;
  with: { pid: number; url: string };
  /** What the feature is compared with: the plain Portico route unless given. */
  against?: { pid: number; url: string; label: string };
  rows: { round: number; plain: Sample; feature: Sample }[];
};

type PairSide = "plain" | "feature";
const PLAIN_FIRST: readonly PairSide[] = ["plain", "feature", "feature", "plain"];
const FEATURE_FIRST: readonly PairSide[] = ["feature", "plain", "plain", "feature"];

function cheapest(samples: readonly Sample[]): Sample {
  return samples.reduce((best, s) => (s.cpuUs < best.cpuUs ? s : best));
}

/**
 * Same-run pairs: a route (or a whole process) with the feature, alternated with the plain route in the same
 * rounds, each ratio taken within its round.
 */
async function runPairs(
  binary: string,
  portico: { pid: number },
  nginx: { pid: number },
  url: string,
): Promise<Pair[]> {
  const authHeader = "apikey: bench-key";
  const key = { apikey: "bench-key" };
  await adminCall("POST", "/consumers", { username: "bench" });
  await adminCall("POST", "/consumers/bench/key-auth", { key: "bench-key" });
  await adminCall("POST", "/consumers/bench/acls", { group: "bench" });
  const benchService = await adminCall("POST", "/services", {
    name: "plugin-upstream",
    url: `http://127.0.0.1:${PORTS.upstream}`,
  });
  const routeWith = async (name: string, plugins: { name: string; config?: unknown }[]) => {
    await adminCall("POST", `/services/${benchService.id}/routes`, { name, paths: [`/${name}`] });
    for (const plugin of plugins) await adminCall("POST", `/routes/${name}/plugins`, plugin);
    const routeUrl = `http://127.0.0.1:${PORTS.portico}/${name}/100b`;
    await until200(routeUrl, key);
    return routeUrl;
  };
  // Issue 5: key-auth + acl.
  const authUrl = await routeWith("auth", [
    { name: "key-auth" },
    { name: "acl", config: { allow: ["bench"] } },
  ]);
  // Issue 12: key-auth + rate-limiting (local), a limit never reached; Kong loses 24 % with this pair.
  const limitedUrl = await routeWith("limited", [
    { name: "key-auth" },
    { name: "rate-limiting", config: { second: 1_000_000_000, policy: "local" } },
  ]);
  // Issue 12: prometheus with every per-request flag on.
  const promUrl = await routeWith("prom", [
    {
      name: "prometheus",
      config: {
        per_consumer: true,
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
      },
    },
  ]);
  // Issue 13: cors + request-transformer + response-transformer (headers only), against no plugins.
  const transformedUrl = await routeWith("transformed", [
    { name: "cors", config: { origins: ["https://app.example.com"] } },
    {
      name: "request-transformer",
      config: { add: { headers: ["x-bench:1"] }, remove: { headers: ["x-none"] } },
    },
    {
      name: "response-transformer",
      config: { add: { headers: ["x-served:1"] }, remove: { headers: ["x-none"] } },
    },
  ]);
  // Issue 13: proxy-cache hits (the bench upstream's files are text/plain or octet-stream), against nginx
  // proxying to the upstream in the same rounds.
  const cachedUrl = await routeWith("cached", [
    {
      name: "proxy-cache",
      config: {
        strategy: "memory",
        content_type: ["text/plain", "application/octet-stream"],
        cache_ttl: 3600,
      },
    },
  ]);
  // Issue 12: the access log (combined) on, in a second process on the same core, alternated with the first.
  const logged = await startPortico(
    binary,
    { proxy: PORTS.logged, admin: PORTS.loggedAdmin },
    ["--access-log", join(work, "access.log")],
    join(work, "portico-logged.db"),
  );
  const loggedUrl = `http://127.0.0.1:${PORTS.logged}/bench/100b`;
  await until200(loggedUrl);

  // Issue 11: a service balanced over an upstream of two targets (both the nginx upstream, once by IP and once
  // by name), weighted round-robin, no health checks.
  await adminCall("POST", "/upstreams", { name: "bench-balanced" });
  await adminCall("POST", "/upstreams/bench-balanced/targets", { target: `127.0.0.1:${PORTS.upstream}` });
  await adminCall("POST", "/upstreams/bench-balanced/targets", { target: `localhost:${PORTS.upstream}` });
  const balancedService = await adminCall("POST", "/services", { name: "balanced", host: "bench-balanced" });
  await adminCall("POST", `/services/${balancedService.id}/routes`, {
    name: "balanced",
    paths: ["/balanced"],
  });
  const balancedUrl = `http://127.0.0.1:${PORTS.portico}/balanced/100b`;
  await until200(balancedUrl);

  const pairs: Pair[] = [
    { label: "key-auth + acl", with: { pid: portico.pid, url: authUrl }, rows: [] },
    { label: "key-auth + rate-limiting (local)", with: { pid: portico.pid, url: limitedUrl }, rows: [] },
    { label: "prometheus (all flags)", with: { pid: portico.pid, url: promUrl }, rows: [] },
    { label: "access log (combined, file)", with: { pid: logged.pid, url: loggedUrl }, rows: [] },
    {
      label: "cors + request-transformer + response-transformer (headers)",
      with: { pid: portico.pid, url: transformedUrl },
      rows: [],
    },
    {
      label: "proxy-cache hit",
      with: { pid: portico.pid, url: cachedUrl },
      against: {
        pid: nginx.pid,
        url: `http://127.0.0.1:${PORTS.nginx}/100b`,
        label: "nginx proxying to the upstream",
      },
      rows: [],
    },
    { label: "balanced over 2 targets", with: { pid: portico.pid, url: balancedUrl }, rows: [] },
  ];
  const chosen = flags.pair === undefined ? pairs : pairs.filter((p) => p.label.includes(flags.pair!));
  if (chosen.length === 0) throw new Error(`--pair ${flags.pair}: no pair's label contains it`);
  for (const pair of chosen) wrk(pair.with.url, 50, undefined, authHeader);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const pair of chosen) {
      log(`bench: round ${round} ${pair.label} vs no plugins`);
      const plain = () =>
        measure(pair.against?.pid ?? portico.pid, pair.against?.url ?? url, 50, undefined, authHeader);
      const feature = () => measure(pair.with.pid, pair.with.url, 50, undefined, authHeader);
      // Two runs of each in the order ABBA (BAAB on even rounds), which cancels a steady drift of the VM's
      // speed; each side keeps its cheaper run, which drops a run that a burst of the VM's neighbours hit
      // (such bursts add 20–80 % to single 2 s runs here and are what made one run per side so noisy).
      const order = round % 2 === 1 ? PLAIN_FIRST : FEATURE_FIRST;
      const runs: Record<PairSide, Sample[]> = { plain: [], feature: [] };
      for (const side of order) runs[side].push(side === "plain" ? plain() : feature());
      pair.rows.push({ round, plain: cheapest(runs.plain), feature: cheapest(runs.feature) });
    }
  }
  return chosen;
}

async function main() {
  log(`bench: work dir ${work}`);
  let binary = join(ROOT, "dist", "portico");
  if (!flags["no-build"]) {
    log("bench: building dist/portico (bun run build)");
    run([process.execPath, "run", "build"]);
  }
  // Run the binary from elsewhere, as a user would.
  const copy = join(work, "portico");
  writeFileSync(copy, readFileSync(binary));
  Bun.spawnSync(["chmod", "+x", copy]);
  binary = copy;

  startUpstream();
  await waitFor(`http://127.0.0.1:${PORTS.upstream}/100b`);
  const nginx = startNginxProxy();
  await waitFor(`http://127.0.0.1:${PORTS.nginx}/100b`);
  const floor = startFloor("floor-passthrough.ts", PORTS.floor);
  await waitFor(`http://127.0.0.1:${PORTS.floor}/100b`);
  const floorOneChunk = startFloor("floor-onechunk.ts", PORTS.floorOneChunk);
  await waitFor(`http://127.0.0.1:${PORTS.floorOneChunk}/100b`);
  const floorHeaders = startFloor("floor-headers.ts", PORTS.floorHeaders);
  await waitFor(`http://127.0.0.1:${PORTS.floorHeaders}/100b`);
  const portico = await startPortico(binary);
  await waitFor(`http://127.0.0.1:${PORTS.portico}/bench/100b`);
  const targets: Record<TargetName, Target> = {
    nginx: { pid: nginx.pid, base: `http://127.0.0.1:${PORTS.nginx}` },
    floor: { pid: floor.pid, base: `http://127.0.0.1:${PORTS.floor}` },
    floorOneChunk: { pid: floorOneChunk.pid, base: `http://127.0.0.1:${PORTS.floorOneChunk}` },
    floorHeaders: { pid: floorHeaders.pid, base: `http://127.0.0.1:${PORTS.floorHeaders}` },
    portico: { pid: portico.pid, base: `http://127.0.0.1:${PORTS.portico}/bench` },
  };

  const rows: Row[] = [];
  const pairsOnly = flags["pairs-only"] || flags.pair !== undefined;
  const scenarios = pairsOnly
    ? []
    : flags.only
      ? SCENARIOS.filter((s) => s.name.includes(flags.only!))
      : SCENARIOS;
  // Warm every proxy (JIT, keep-alive pools).
  for (const name of TARGETS) wrk(`${targets[name].base}/100b`, 50);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of scenarios) {
      log(`bench: round ${round} ${s.name}`);
      const samples = {} as Record<TargetName, Sample>;
      // Each round starts with another target, so a drift in the machine's load does not always hit one.
      for (let k = 0; k < TARGETS.length; k++) {
        const name = TARGETS[(k + round) % TARGETS.length]!;
        samples[name] = measure(targets[name].pid, targets[name].base + s.path, s.connections, s.script);
      }
      rows.push({ scenario: s.name, round, samples });
    }
  }

  // 1 route vs 10,000 more routes (20,000 paths: a short prefix and a longer one each). The big configuration
  // is seeded into a fresh database (see seed-routes.ts) and served by a second process; both processes run
  // side by side (the idle one costs nothing) and are alternated within each round, in alternating order,
  // so a change in the machine's load hits both alike.
  const url = `http://127.0.0.1:${PORTS.portico}/bench/100b`;
  const bigUrl = `http://127.0.0.1:${PORTS.big}/bench/100b`;
  const seeded = join(work, "portico-10k.db");
  const routeRows: { round: number; one: Sample; many: Sample }[] = [];
  let seedMs = 0;
  let bootMs = 0;
  if (!pairsOnly && !flags.only) {
    const seedStarted = performance.now();
    run([
      process.execPath,
      join(ROOT, "bench", "seed-routes.ts"),
      seeded,
      `http://127.0.0.1:${PORTS.upstream}`,
      "10000",
    ]);
    seedMs = performance.now() - seedStarted;
    const bootStarted = performance.now();
    const big = startPorticoOn(binary, seeded, { proxy: PORTS.big, admin: PORTS.bigAdmin });
    await waitFor(bigUrl);
    bootMs = performance.now() - bootStarted;
    wrk(bigUrl, 50);
    for (let round = 1; round <= ROUNDS; round++) {
      log(`bench: round ${round} 1 route vs 10,001 routes`);
      if (round % 2 === 1) {
        const one = measure(portico.pid, url, 50);
        routeRows.push({ round, one, many: measure(big.pid, bigUrl, 50) });
      } else {
        const many = measure(big.pid, bigUrl, 50);
        routeRows.push({ round, one: measure(portico.pid, url, 50), many });
      }
    }
  }

  // Same-run pairs: a route (or a whole process) with the feature, alternated with the plain route in the same
  // rounds, each ratio taken within its round. Every request of both sides sends the same API key header, so
  // the only difference is the feature's work (the plain route forwards the header as is).
  const pairs = pairsOnly || !flags.only ? await runPairs(binary, portico, nginx, url) : [];

  const out: string[] = [];
  const nginxVersion = Bun.spawnSync(["/usr/sbin/nginx", "-v"]).stderr.toString().trim();
  out.push(
    `Portico vs ${nginxVersion} and Bun ${Bun.version}'s floor — ${ROUNDS} rounds × ${DURATION} s per run, wrk -t1`,
  );
  out.push("");
  out.push(
    "| scenario | round | target | rps | p50/p99 ms | CPU µs/req | efficiency (nginx µs ÷ target µs) | RSS MiB |",
  );
  out.push("|---|---|---|---|---|---|---|---|");
  for (const r of rows)
    for (const name of TARGETS) {
      const t = r.samples[name];
      out.push(
        `| ${r.scenario} | ${r.round} | ${LABELS[name]} | ${fmt(t.rps)} | ${fmt(t.p50, 3)}/${fmt(t.p99, 3)} | ${fmt(t.cpuUs, 1)} | ${fmt(r.samples.nginx.cpuUs / t.cpuUs, 2)} | ${fmt(t.rss, 1)} |`,
      );
    }
  if (rows.length > 0) {
    // Every ratio is taken within a round (targets measured minutes apart are not compared), then the
    // median over rounds.
    const ratio = (rs: Row[], top: TargetName, bottom: TargetName) =>
      median(rs.map((r) => r.samples[top].cpuUs / r.samples[bottom].cpuUs));
    out.push("");
    out.push(
      "Medians over rounds: CPU µs/req, (efficiency = nginx µs ÷ target µs), and Portico's cost over each floor:",
    );
    out.push("");
    out.push(
      `| scenario | ${TARGETS.map((name) => LABELS[name]).join(" | ")} | Portico ÷ floor | Portico ÷ one-chunk floor | Portico ÷ floor + headers | rps ratio (Portico ÷ nginx) |`,
    );
    out.push(`|---|${TARGETS.map(() => "---|").join("")}---|---|---|---|`);
    for (const s of scenarios) {
      const rs = rows.filter((r) => r.scenario === s.name);
      const cells = TARGETS.map(
        (name) =>
          `${fmt(median(rs.map((r) => r.samples[name].cpuUs)), 1)} (${fmt(ratio(rs, "nginx", name), 2)})`,
      );
      const rps = median(rs.map((r) => r.samples.portico.rps / r.samples.nginx.rps));
      out.push(
        `| ${s.name} | ${cells.join(" | ")} | ${fmt(ratio(rs, "portico", "floor"), 2)} | ${fmt(ratio(rs, "portico", "floorOneChunk"), 2)} | ${fmt(ratio(rs, "portico", "floorHeaders"), 2)} | ${fmt(rps, 2)} |`,
      );
    }
    out.push("");
  }
  if (routeRows.length > 0) {
    out.push(
      `Routes (GET 100 B, c50, Portico). Seeding 10,000 routes took ${fmt(seedMs / 1000, 1)} s; the binary served the first request ${fmt(bootMs)} ms after start.`,
    );
    out.push("");
    out.push(
      "| round | 1 route rps | 1 route CPU µs/req | 1 route RSS MiB | 10,001 routes rps | 10,001 routes CPU µs/req | 10,001 routes RSS MiB | extra CPU |",
    );
    out.push("|---|---|---|---|---|---|---|---|");
    for (const r of routeRows)
      out.push(
        `| ${r.round} | ${fmt(r.one.rps)} | ${fmt(r.one.cpuUs, 1)} | ${fmt(r.one.rss, 1)} | ${fmt(r.many.rps)} | ${fmt(r.many.cpuUs, 1)} | ${fmt(r.many.rss, 1)} | ${fmt(((r.many.cpuUs - r.one.cpuUs) / r.one.cpuUs) * 100, 1)} % |`,
      );
    const routeExtra = median(routeRows.map((r) => ((r.many.cpuUs - r.one.cpuUs) / r.one.cpuUs) * 100));
    out.push("");
    out.push(
      `10,000 routes cost ${fmt(routeExtra, 1)} % CPU per request (median of the per-round ratios; medians ${fmt(median(routeRows.map((r) => r.one.cpuUs)), 1)} → ${fmt(median(routeRows.map((r) => r.many.cpuUs)), 1)} µs).`,
    );
    out.push("");
  }
  for (const pair of pairs) {
    out.push(
      `${pair.label} (GET 100 B, c50, Portico; alternated with ${pair.against?.label ?? `the plain route${pair.with.pid === portico.pid ? " of the same process" : " of the process without it"}`})`,
    );
    out.push("");
    out.push("| round | plain rps | plain CPU µs/req | with rps | with CPU µs/req | extra CPU |");
    out.push("|---|---|---|---|---|---|");
    for (const r of pair.rows)
      out.push(
        `| ${r.round} | ${fmt(r.plain.rps)} | ${fmt(r.plain.cpuUs, 1)} | ${fmt(r.feature.rps)} | ${fmt(r.feature.cpuUs, 1)} | ${fmt(((r.feature.cpuUs - r.plain.cpuUs) / r.plain.cpuUs) * 100, 1)} % |`,
      );
    // Paired per round (the two runs sit next to each other in time), then the median of those ratios.
    const ratios = pair.rows.map((r) => ((r.feature.cpuUs - r.plain.cpuUs) / r.plain.cpuUs) * 100);
    out.push("");
    out.push(
      `${pair.label} cost ${fmt(median(ratios), 1)} % CPU per request (median of the per-round ratios; interquartile ${fmt(quantile(ratios, 0.25), 1)} … ${fmt(quantile(ratios, 0.75), 1)}).`,
    );
    out.push("");
  }
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  for (const child of children) child.kill();
  await Promise.all(children.map((c) => c.exited));
  rmSync(work, { recursive: true, force: true });
}
