// 100 MB up and 100 MB down through a gateway running in its own process, whose peak resident memory
// (VmHWM) is read from /proc: exact, and unaffected by whatever other suites left in the test process.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PorticoProcess, SOURCE_COMMAND, startPortico } from "../support/process.ts";
import { startUpstream } from "./helpers.ts";

const MB = 1024 * 1024;
const SIZE = 100 * MB;

let gateway: PorticoProcess;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "portico-mem-"));
  gateway = await startPortico(SOURCE_COMMAND, [
    "--database",
    join(dir, "p.db"),
    "--proxy-listen",
    "127.0.0.1:0",
    "--admin-listen",
    "127.0.0.1:0",
  ]);
});
afterAll(() => gateway.stop());

async function peakRss(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function generated(total: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(97);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunk.length, total - sent);
      controller.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
      sent += n;
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.byteLength;
  return total;
}

test("100 MB up and 100 MB down stream through the gateway with bounded memory", async () => {
  const bulk = startUpstream(
    async (req) => {
      if (req.method === "POST") return Response.json({ received: await drain(req.body!) });
      return new Response(generated(SIZE), { headers: { "content-type": "application/octet-stream" } });
    },
    { readBody: false },
  );
  try {
    const json = { "content-type": "application/json" };
    const service = await fetch(`${gateway.adminUrl}/services`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ name: "bulk", url: bulk.url }),
    });
    expect(service.status).toBe(201);
    const route = await fetch(`${gateway.adminUrl}/services/bulk/routes`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ paths: ["/bulk"] }),
    });
    expect(route.status).toBe(201);
    // Warm up (first request, connection pool) before taking the baseline.
    for (
      let i = 0;
      i < 50 && (await fetch(`${gateway.proxyUrl}/bulk`, { method: "HEAD" })).status !== 200;
      i++
    )
      await Bun.sleep(20);
    const before = await peakRss(gateway.proc.pid);

    const up = await fetch(`${gateway.proxyUrl}/bulk`, {
      method: "POST",
      body: generated(SIZE),
      headers: { "content-length": String(SIZE) },
      duplex: "half",
    } as RequestInit);
    expect(await up.json()).toEqual({ received: SIZE });
    const down = await fetch(`${gateway.proxyUrl}/bulk`);
    expect(down.status).toBe(200);
    expect(await drain(down.body!)).toBe(SIZE);

    // Buffering either body would add 100 MB to the gateway's peak.
    const growth = (await peakRss(gateway.proc.pid)) - before;
    expect(growth).toBeLessThan(40 * MB);
  } finally {
    await bulk.stop();
  }
});
