// Latency at concurrency 1 with a second client: one connection, wrk's exact request bytes, the next request
// written as soon as the previous response is complete, after a warm-up; prints percentiles. Next to
// `wrk -t1 -c1` (bench/run.ts's c1 scenario) it shows how much of a p99 belongs to the client and to the VM
// waking an idle core rather than to the proxy (see bench/README.md, "The -c1 p99 with two clients").
//
//   bun bench/seq-latency.ts <port> <path> [requests=40000]
//
// Responses must carry a Content-Length (the proxies' 100 B responses do). Not a test: nothing here asserts.
import process from "node:process";

const [portText, path, countText] = process.argv.slice(2);
if (portText === undefined || path === undefined) {
  console.error("usage: bun bench/seq-latency.ts <port> <path> [requests=40000]");
  process.exit(2);
}
const port = Number(portText);
const count = Number(countText ?? 40_000);
const WARM_UP = 3_000;
const request = new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
const decoder = new TextDecoder();

let pending = "";
let complete: (() => void) | null = null;

/** Ends the request in flight once its whole response (head and Content-Length body) has arrived. */
function received(text: string): void {
  pending += text;
  const headEnd = pending.indexOf("\r\n\r\n");
  if (headEnd < 0) return;
  const length = Number(/content-length: *(\d+)/i.exec(pending.slice(0, headEnd))?.[1] ?? 0);
  if (pending.length < headEnd + 4 + length) return;
  pending = pending.slice(headEnd + 4 + length);
  const done = complete;
  complete = null;
  done?.();
}

const socket = await Bun.connect({
  hostname: "127.0.0.1",
  port,
  socket: { data: (_socket, data) => received(decoder.decode(data)) },
});

function once(): Promise<void> {
  return new Promise((resolve) => {
    complete = resolve;
    socket.write(request);
  });
}

for (let i = 0; i < WARM_UP; i++) await once();
const latencies = new Float64Array(count);
const started = performance.now();
for (let i = 0; i < count; i++) {
  const t0 = performance.now();
  await once();
  latencies[i] = performance.now() - t0;
}
const seconds = (performance.now() - started) / 1000;
socket.end();

const sorted = [...latencies].sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * (count - 1)))]!.toFixed(3);
const overOneMs = sorted.filter((l) => l > 1).length;
console.log(
  `${count} requests, ${(count / seconds).toFixed(0)}/s: p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} p99.9 ${at(0.999)} max ${at(1)} ms; over 1 ms: ${overOneMs}`,
);
