// The proxy's own JavaScript per request, in-process: what Portico's request handler costs beside the
// floor-headers handler (bench/floor-headers.ts) when `fetch` answers at once with a canned response, so
// neither the kernel nor Bun's HTTP client is in the figure. The end-to-end run (bench/run.ts) moves ±25 %
// between rounds on a shared 2-core machine; this one measures CPU time of one thread (process.cpuUsage),
// which the machine's other load disturbs far less, so a change of a few hundred nanoseconds shows.
// What it cannot show: cache misses the real server pays between native and JavaScript code, which make the
// same JavaScript cost roughly two to three times as much end to end (compare Portico ÷ floor in both).
//
//   bun bench/js-cost.ts [--rounds 7] [--requests 100000] [--body 100]
//
// --body sets the canned response's size in bytes: from 15,360 up both Portico and the one-chunk floor
// (floor-onechunk.ts) buffer it and answer a one-chunk stream, so `--body 65536` compares their medium path.
//   TARGETS=Portico bun --cpu-prof bench/js-cost.ts   (one target only, e.g. to profile it)
//
// Not a test: nothing here asserts. `fetch` is replaced in this process only, for the measurement.
import { parseArgs } from "node:util";
import { buildSnapshot, createProxy } from "../src/proxy/index.ts";
import { routeSchema } from "../src/schemas/routes.ts";
import { serviceSchema } from "../src/schemas/services.ts";
import { BENCH_SERVER, cannedNginxFetch } from "./canned-upstream.ts";
import { floorHeadersHandler } from "./floor-headers.ts";
import { floorOneChunkHandler } from "./floor-onechunk.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    requests: { type: "string", default: "100000" },
    body: { type: "string", default: "100" },
  },
});
const ROUNDS = Number(flags.rounds);
const REQUESTS = Number(flags.requests);
const UPSTREAM = "http://127.0.0.1:18080";

const service = {
  ...serviceSchema().parse({ url: UPSTREAM, name: "bench" }),
  id: "00000000-0000-4000-8000-000000000001",
  created_at: 1,
  updated_at: 1,
};
const route = {
  ...routeSchema().parse({ paths: ["/bench"], strip_path: true }),
  id: "00000000-0000-4000-8000-000000000002",
  created_at: 1,
  updated_at: 1,
  service: { id: service.id },
};
const proxy = createProxy({ bodyLimit: 128 * 1024 * 1024, version: "bench" });
proxy.swap(
  buildSnapshot({ version: 1, services: [service], routes: [route] } as Parameters<typeof buildSnapshot>[0]),
);

const server = BENCH_SERVER as unknown as Parameters<typeof proxy.fetch>[1];

const cannedFetch = cannedNginxFetch(Number(flags.body));
globalThis.fetch = cannedFetch as unknown as typeof fetch;

// wrk's request.
const request = (path: string) =>
  new Request(`http://127.0.0.1:8000${path}`, { headers: { host: "127.0.0.1:8000" } });

const floor = floorHeadersHandler("8000", UPSTREAM);
const oneChunk = floorOneChunkHandler(UPSTREAM);
const targets: Record<string, () => Response | Promise<Response> | undefined> = {
  // Building the Request is the harness's cost (Bun.serve makes its own natively): measured and taken off.
  "request + canned fetch": () => {
    request("/a100").headers;
    return cannedFetch();
  },
  "floor + header work": () => floor(request("/a100"), server),
  "one-chunk floor": () => oneChunk(request("/a100")),
  Portico: () => proxy.fetch(request("/bench/a100"), server),
};

async function measure(run: () => Response | Promise<Response> | undefined): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const response = await run();
    if (response?.status !== 200) throw new Error(`answered ${response?.status}`);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REQUESTS;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const names = process.env.TARGETS ? process.env.TARGETS.split(",") : Object.keys(targets);
for (const name of names) await measure(targets[name]!); // JIT warm-up
const samples = new Map<string, number[]>(names.map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++)
  for (let i = 0; i < names.length; i++) {
    const name = names[(round + i) % names.length]!;
    samples.get(name)!.push(await measure(targets[name]!));
  }

const base = samples.has("request + canned fetch") ? median(samples.get("request + canned fetch")!) : 0;
const floorUs = samples.has("floor + header work")
  ? median(samples.get("floor + header work")!) - base
  : Number.NaN;
console.log(
  `| target | CPU µs per request (median of ${ROUNDS}) | less request + canned fetch | ÷ floor + header work |`,
);
console.log("|---|---|---|---|");
for (const name of names) {
  const us = median(samples.get(name)!);
  const own = us - base;
  const ratio = name === "request + canned fetch" ? "–" : (own / floorUs).toFixed(2);
  console.log(`| ${name} | ${us.toFixed(2)} | ${own.toFixed(2)} | ${ratio} |`);
}
const load = (await Bun.file("/proc/loadavg").text()).split(" ")[0];
console.log(
  `\nper round: ${names
    .map(
      (n) =>
        `${n} ${samples
          .get(n)!
          .map((v) => v.toFixed(2))
          .join(" ")}`,
    )
    .join("; ")}`,
);
console.log(`load average ${load}, ${REQUESTS} requests per target and round`);
