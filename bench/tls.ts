// Benchmark: TLS termination and HTTP/2 (issue 15). GET 100 B through Portico and through nginx, both
// terminating TLS 1.3 with the same certificate and proxying over HTTP/1.1 keep-alive to the same upstream
// nginx; and HTTP/2 against HTTP/1.1 through Portico's ssl + http2 listener.
//
//   bun bench/tls.ts [--rounds 5] [--duration 5] [--no-build] [--connections 50]
//
// (BENCH_KEEP=1 keeps the work directory with the nginx logs.)
// Layout as bench/run.ts: the load generator (wrk, h2load) and the upstream nginx share core 0; the proxy
// under test runs alone on core 1 (taskset), nginx with one worker in one process, Portico with one proxy
// worker. CPU µs per request is the utime + stime delta of the proxy's whole process from /proc/<pid>/stat
// divided by the requests the client completed. Every target is measured once per round, the order rotating
// from round to round; ratios are taken within a round, then the median over rounds. Not a test.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nginxConf as nginxConfIn, PROXY_LOCATION } from "./nginx.ts";
import { cpuTicks, log, runToEnd, spawnInto, waitFor } from "./processes.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "50" },
    "no-build": { type: "boolean", default: false },
  },
});
const ROUNDS = Number(flags.rounds);
const DURATION = Number(flags.duration);
const CONNECTIONS = Number(flags.connections);
const ROOT = join(import.meta.dir, "..");
const PORTS = {
  upstream: 28180,
  nginxHttp: 28181,
  nginxHttps: 28182,
  porticoHttp: 28100,
  porticoHttps: 28143,
  porticoH2: 28144,
  admin: 28101,
};
const CLK_TCK = 100;
const LOAD_CORE = "0";
const PROXY_CORE = "1";
// TLS 1.3 with one suite on both servers: BoringSSL (Bun) picks AES-128-GCM when the CPU has AES-NI, and
// nginx (OpenSSL) is told to use the same; the client offers only it too.
const TLS13_SUITE = "TLS_AES_128_GCM_SHA256";

const work = mkdtempSync(join(tmpdir(), "portico-bench-tls-"));
const children: Bun.Subprocess[] = [];
const spawn = (cmd: string[]) => spawnInto(children, cmd, work);

const run = (cmd: string[]) => runToEnd(cmd, ROOT);

// --- certificate, upstream, nginx ----------------------------------------------------------------------

/** One ECDSA P-256 certificate for localhost, served by both proxies. */
function certificate(): { cert: string; key: string } {
  const cert = join(work, "server.crt");
  const key = join(work, "server.key");
  run([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  return { cert, key };
}

const nginxConf = (name: string, server: string) => nginxConfIn(work, name, server);

function startUpstream(): void {
  const root = join(work, "www");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "100b"), "x".repeat(100));
  const conf = nginxConf("upstream", `server { listen 127.0.0.1:${PORTS.upstream}; root ${root}; }`);
  spawn(["taskset", "-c", LOAD_CORE, "/usr/sbin/nginx", "-p", join(work, "upstream"), "-c", conf]);
}

/** nginx as the reverse proxy, on plain HTTP and on TLS 1.3 (one process, one worker). */
function startNginxProxy(pem: { cert: string; key: string }): Bun.Subprocess {
  const conf = nginxConf(
    "proxy",
    `upstream backend { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server { listen 127.0.0.1:${PORTS.nginxHttp}; ${PROXY_LOCATION} }
  server {
    listen 127.0.0.1:${PORTS.nginxHttps} ssl;
    ssl_certificate ${pem.cert};
    ssl_certificate_key ${pem.key};
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites ${TLS13_SUITE};
    ${PROXY_LOCATION}
  }`,
  );
  return spawn(["taskset", "-c", PROXY_CORE, "/usr/sbin/nginx", "-p", join(work, "proxy"), "-c", conf]);
}

// --- Portico -------------------------------------------------------------------------------------------

const ADMIN = `http://127.0.0.1:${PORTS.admin}`;

async function adminCall(method: string, path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(ADMIN + path, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

async function startPortico(binary: string, pem: { cert: string; key: string }): Promise<Bun.Subprocess> {
  const child = spawn([
    "taskset",
    "-c",
    PROXY_CORE,
    binary,
    "start",
    "--workers",
    "1",
    "--database",
    join(work, "portico.db"),
    "--proxy-listen",
    [
      `127.0.0.1:${PORTS.porticoHttp}`,
      `127.0.0.1:${PORTS.porticoHttps} ssl`,
      `127.0.0.1:${PORTS.porticoH2} ssl http2`,
    ].join(", "),
    "--admin-listen",
    `127.0.0.1:${PORTS.admin}`,
    "--ssl-cert",
    pem.cert,
    "--ssl-cert-key",
    pem.key,
  ]);
  await waitFor(`${ADMIN}/status`);
  // strip_path false: /100b reaches the upstream as /100b, the same URL as through nginx.
  const service = await adminCall("POST", "/services", {
    name: "upstream",
    url: `http://127.0.0.1:${PORTS.upstream}`,
  });
  await adminCall("POST", `/services/${service.id}/routes`, {
    name: "bench",
    paths: ["/100b"],
    strip_path: false,
  });
  return child;
}

// --- clients -------------------------------------------------------------------------------------------

type Result = { requests: number; rps: number };

function wrk(url: string): Result {
  const out = run(["taskset", "-c", LOAD_CORE, "wrk", "-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, url]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out) ?? /Socket errors: (.*)/.exec(out);
  if (errors) throw new Error(`wrk ${url}: ${errors[0]}`);
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
  };
}

/** h2load over TLS 1.3: HTTP/2 (ALPN h2), or HTTP/1.1 with `h1` (ALPN http/1.1). */
function h2load(url: string, options: { h1?: boolean; clients: number; streams: number }): Result {
  const out = run([
    "taskset",
    "-c",
    LOAD_CORE,
    "h2load",
    "-t1",
    `-c${options.clients}`,
    `-m${options.streams}`,
    `-D${DURATION}`,
    `--tls13-ciphers=${TLS13_SUITE}`,
    ...(options.h1 ? ["--h1"] : []),
    url,
  ]);
  const done =
    /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  if (!done) throw new Error(`h2load ${url}: no summary in ${out.slice(-400)}`);
  if (Number(done[3]) > 0 || Number(done[4]) > 0) throw new Error(`h2load ${url}: ${done[0]}`);
  const protocol = /Application protocol: (\S+)/.exec(out)?.[1];
  const expected = options.h1 ? "http/1.1" : "h2";
  if (protocol !== expected) throw new Error(`h2load ${url}: negotiated ${protocol}, expected ${expected}`);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (status && Number(status[3]) + Number(status[4]) > 0) throw new Error(`h2load ${url}: ${status[0]}`);
  return { requests: Number(done[2]), rps: Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1]) };
}

/** The TLS version and suite a server negotiates for a client offering only TLS13_SUITE. */
function negotiated(port: number): string {
  const result = Bun.spawnSync(
    [
      "openssl",
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-tls1_3",
      "-ciphersuites",
      TLS13_SUITE,
    ],
    { stdin: new TextEncoder().encode(""), stdout: "pipe", stderr: "pipe" },
  );
  const out = result.stdout.toString();
  const line = /New, (TLSv[\d.]+), Cipher is (\S+)/.exec(out);
  const group = /(?:Negotiated TLS1.3 group|Server Temp Key): ([^\n]+)/.exec(out)?.[1];
  return line ? `${line[1]} ${line[2]}${group ? `, key exchange ${group}` : ""}` : "no handshake";
}

// --- targets -------------------------------------------------------------------------------------------

type Target = { label: string; pid: () => number; load: () => Result };
type Sample = { cpuUs: number; rps: number };

function measure(target: Target): Sample {
  const pid = target.pid();
  const before = cpuTicks(pid);
  const r = target.load();
  const ticks = cpuTicks(pid) - before;
  return { cpuUs: (ticks * (1_000_000 / CLK_TCK)) / r.requests, rps: r.rps };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "–");

/** Refuses to start when another process (another session's bench) holds one of the ports. */
function checkPortsFree(): void {
  for (const port of Object.values(PORTS)) {
    try {
      Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    } catch {
      throw new Error(`port ${port} is in use: stop what holds it, or change PORTS in bench/tls.ts`);
    }
  }
}

async function main() {
  log(`bench: work dir ${work}`);
  checkPortsFree();
  const load = [
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  ];
  if (!flags["no-build"]) {
    log("bench: building dist/portico (bun run build)");
    run([process.execPath, "run", "build"]);
  }
  const binary = join(work, "portico");
  writeFileSync(binary, readFileSync(join(ROOT, "dist", "portico")));
  Bun.spawnSync(["chmod", "+x", binary]);

  const pem = certificate();
  startUpstream();
  await waitFor(`http://127.0.0.1:${PORTS.upstream}/100b`);
  const nginx = startNginxProxy(pem);
  await waitFor(`http://127.0.0.1:${PORTS.nginxHttp}/100b`);
  const portico = await startPortico(binary, pem);
  await waitFor(`http://127.0.0.1:${PORTS.porticoHttp}/100b`);

  const https = (port: number) => `https://localhost:${port}/100b`;
  const http = (port: number) => `http://127.0.0.1:${port}/100b`;
  const c = CONNECTIONS;
  const targets: Record<string, Target> = {
    nginxHttp: {
      label: "nginx, HTTP/1.1 cleartext (wrk)",
      pid: () => nginx.pid,
      load: () => wrk(http(PORTS.nginxHttp)),
    },
    nginxHttps: {
      label: "nginx, HTTPS/1.1 TLS 1.3 (wrk)",
      pid: () => nginx.pid,
      load: () => wrk(https(PORTS.nginxHttps)),
    },
    porticoHttp: {
      label: "Portico, HTTP/1.1 cleartext (wrk)",
      pid: () => portico.pid,
      load: () => wrk(http(PORTS.porticoHttp)),
    },
    porticoHttps: {
      label: "Portico, HTTPS/1.1 TLS 1.3 (wrk)",
      pid: () => portico.pid,
      load: () => wrk(https(PORTS.porticoHttps)),
    },
    h1Wrk: {
      label: "Portico ssl+http2 listener, HTTP/1.1 (wrk)",
      pid: () => portico.pid,
      load: () => wrk(https(PORTS.porticoH2)),
    },
    h1: {
      label: `Portico ssl+http2 listener, HTTP/1.1 (h2load --h1, c${c})`,
      pid: () => portico.pid,
      load: () => h2load(https(PORTS.porticoH2), { h1: true, clients: c, streams: 1 }),
    },
    h2: {
      label: `Portico ssl+http2 listener, HTTP/2 (h2load, c${c} m1)`,
      pid: () => portico.pid,
      load: () => h2load(https(PORTS.porticoH2), { clients: c, streams: 1 }),
    },
    h2Multiplexed: {
      label: `Portico ssl+http2 listener, HTTP/2 (h2load, c${Math.max(1, c / 10)} m10)`,
      pid: () => portico.pid,
      load: () => h2load(https(PORTS.porticoH2), { clients: Math.max(1, c / 10), streams: 10 }),
    },
    nginxH2loadH1: {
      label: `nginx, HTTPS/1.1 TLS 1.3 (h2load --h1, c${c})`,
      pid: () => nginx.pid,
      load: () => h2load(https(PORTS.nginxHttps), { h1: true, clients: c, streams: 1 }),
    },
  };
  const names = Object.keys(targets);
  const handshakes = {
    nginx: negotiated(PORTS.nginxHttps),
    portico: negotiated(PORTS.porticoHttps),
    porticoH2: negotiated(PORTS.porticoH2),
  };
  log(`bench: negotiated ${JSON.stringify(handshakes)}`);
  // Warm both processes (JIT, upstream keep-alive pools).
  for (const name of names) targets[name]!.load();

  const rounds: Record<string, Sample>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    log(`bench: round ${round + 1}/${ROUNDS}, load average ${loadavg()[0]!.toFixed(2)}`);
    const samples: Record<string, Sample> = {};
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length]!;
      samples[name] = measure(targets[name]!);
    }
    rounds.push(samples);
  }
  load.push(
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  );

  const ratio = (top: string, bottom: string) => {
    const per = rounds.map((r) => r[top]!.cpuUs / r[bottom]!.cpuUs);
    return `${fmt(median(per), 2)} (${fmt(Math.min(...per), 2)}–${fmt(Math.max(...per), 2)})`;
  };
  const out: string[] = [];
  const nginxVersion = Bun.spawnSync(["/usr/sbin/nginx", "-v"]).stderr.toString().trim();
  out.push(
    `TLS and HTTP/2, GET 100 B: Portico (Bun ${Bun.version}) vs ${nginxVersion} — ${ROUNDS} rounds × ${DURATION} s, c${c}, load average before ${load[0]}, after ${load[1]}`,
  );
  out.push(
    `Negotiated: nginx ${handshakes.nginx}; Portico ssl ${handshakes.portico}; Portico ssl+http2 ${handshakes.porticoH2}`,
  );
  out.push("");
  out.push("| target | CPU µs/req median (min–max) | rps median |");
  out.push("|---|---|---|");
  for (const name of names) {
    const cpu = rounds.map((r) => r[name]!.cpuUs);
    out.push(
      `| ${targets[name]!.label} | ${fmt(median(cpu), 1)} (${fmt(Math.min(...cpu), 1)}–${fmt(Math.max(...cpu), 1)}) | ${fmt(median(rounds.map((r) => r[name]!.rps)))} |`,
    );
  }
  out.push("");
  out.push("Ratios of CPU µs per request, each taken within a round: median (min–max) over rounds.");
  out.push("");
  out.push("| comparison | ratio |");
  out.push("|---|---|");
  out.push(`| Portico HTTPS ÷ nginx HTTPS (wrk) | ${ratio("porticoHttps", "nginxHttps")} |`);
  out.push(`| Portico HTTP ÷ nginx HTTP (wrk) | ${ratio("porticoHttp", "nginxHttp")} |`);
  out.push(`| TLS cost, Portico: HTTPS ÷ HTTP | ${ratio("porticoHttps", "porticoHttp")} |`);
  out.push(`| TLS cost, nginx: HTTPS ÷ HTTP | ${ratio("nginxHttps", "nginxHttp")} |`);
  out.push(`| Portico HTTPS ÷ nginx HTTPS (h2load --h1) | ${ratio("h1", "nginxH2loadH1")} |`);
  out.push(`| Portico HTTP/2 c${c} m1 ÷ HTTP/1.1 (h2load --h1) | ${ratio("h2", "h1")} |`);
  out.push(`| Portico HTTP/2 c${c / 10} m10 ÷ HTTP/1.1 (h2load --h1) | ${ratio("h2Multiplexed", "h1")} |`);
  out.push(
    `| Portico HTTP/1.1: http2 listener ÷ ssl-only listener (wrk) | ${ratio("h1Wrk", "porticoHttps")} |`,
  );
  out.push("");
  out.push("Per round, CPU µs/req:");
  out.push("");
  out.push(`| round | ${names.join(" | ")} |`);
  out.push(`|---|${names.map(() => "---|").join("")}`);
  rounds.forEach((r, i) => {
    out.push(`| ${i + 1} | ${names.map((n) => fmt(r[n]!.cpuUs, 1)).join(" | ")} |`);
  });
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  for (const child of children) child.kill();
  await Promise.all(children.map((c) => c.exited));
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
}
