// The combined access-log line assembled as bytes is byte for byte the string line's UTF-8; the line writer
// keeps every line whole and in order, strings and bytes alike, across its 64 KiB chunks, on files and pipes.
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LineWriter } from "../../src/plugins/line-writer.ts";
import { combinedBytes, combinedLine } from "../../src/proxy/access-log.ts";
import { Transaction } from "../../src/proxy/transaction.ts";

const work = mkdtempSync(join(tmpdir(), "portico-log-lines-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function transaction(uri: string, headers: Record<string, string>, clientIp = "203.0.113.9"): Transaction {
  const request = new Request(`http://gateway.test${uri}`, { headers: { host: "gateway.test", ...headers } });
  const tx = new Transaction(
    request,
    "0123456789abcdef",
    "GET",
    0,
    uri,
    clientIp,
    "http",
    "8000",
    "combined",
  );
  tx.status = 200;
  tx.bodySize = 1234567;
  return tx;
}

describe("combined line as bytes", () => {
  // Both lines stamp the time they are written ($time_local): a clock frozen at one instant keeps a second
  // boundary between the two from failing the comparison.
  beforeAll(() => setSystemTime(new Date("2026-11-30T21:36:22.999Z")));
  afterAll(() => setSystemTime());
  const cases: [string, Transaction][] = [
    ["plain", transaction("/bench/100b", {})],
    [
      "Basic user, referer, agent",
      transaction("/x?y=1", {
        authorization: `Basic ${btoa("alice:secret")}`,
        referer: "https://example.com/page",
        "user-agent": "curl/8.5.0",
      }),
    ],
    [
      "escaped quotes, backslashes, control and non-ASCII characters",
      transaction("/caf%C3%A9", {
        "user-agent": 'agent "quoted" \\ back\tslash',
        referer: "https://ex.test/é",
      }),
    ],
    ["a client address that is not ASCII (written as UTF-8, as the string)", transaction("/", {}, "clïent")],
    ["a long request target", transaction(`/${"a".repeat(9000)}`, { "user-agent": "ü".repeat(3000) })],
  ];
  for (const [name, tx] of cases)
    test(name, () => {
      const line = combinedBytes(tx);
      expect(line.buffer.subarray(0, line.length).toString("latin1")).toBe(
        Buffer.from(combinedLine(tx)).toString("latin1"),
      );
    });

  test("status and size digits, zero included", () => {
    const tx = transaction("/", {});
    for (const [status, size] of [
      [101, 0],
      [404, 9],
      [200, 10],
      [500, 1_000_000_007],
    ] as const) {
      tx.status = status;
      tx.bodySize = size;
      const line = combinedBytes(tx);
      expect(line.buffer.subarray(0, line.length).toString()).toBe(combinedLine(tx));
    }
  });
});

describe("LineWriter", () => {
  test("strings and bytes, whole and in order, across chunks and past a chunk's size", async () => {
    const path = join(work, "mixed.log");
    const writer = new LineWriter(path);
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const line = `line ${i} ${"é".repeat(i % 50)} ${"x".repeat(i % 97)}`;
      if (i % 2 === 0) writer.write(line);
      else {
        const bytes = Buffer.from(line);
        writer.writeBytes(bytes, bytes.length);
      }
      expected.push(line);
      if (i === 1500) {
        // A line longer than a chunk goes in a chunk of its own.
        const long = "L".repeat(100_000);
        writer.write(long);
        expected.push(long);
      }
    }
    await writer.close();
    expect(readFileSync(path, "utf8")).toBe(`${expected.join("\n")}\n`);
  });

  test("bytes beyond `length` are not written", async () => {
    const path = join(work, "length.log");
    const writer = new LineWriter(path);
    writer.writeBytes(Buffer.from("abcdef"), 3);
    writer.write("next");
    await writer.close();
    expect(readFileSync(path, "utf8")).toBe("abc\nnext\n");
  });

  test("past maxBuffered bytes waiting, lines are dropped and counted, never torn", async () => {
    const path = join(work, "bounded.log");
    const writer = new LineWriter(path, { maxBuffered: 100 });
    for (let i = 0; i < 10; i++) writer.write(`${i}`.repeat(30));
    // 31 bytes a line: three fit in 100 bytes; the writer is not writing yet (no batch is full), so the rest waits.
    expect(writer.dropped).toBe(7);
    await writer.close();
    expect(readFileSync(path, "utf8")).toBe(`${"0".repeat(30)}\n${"1".repeat(30)}\n${"2".repeat(30)}\n`);
  });

  test("to a pipe: every line arrives whole, in order", async () => {
    const script = join(work, "pipe-writer.ts");
    await Bun.write(
      script,
      `import { LineWriter } from ${JSON.stringify(join(import.meta.dir, "../../src/plugins/line-writer.ts"))};
const writer = new LineWriter("stdout");
for (let i = 0; i < 5000; i++) {
  const line = "p" + i + " " + "y".repeat(i % 300);
  if (i % 3 === 0) { const b = Buffer.from(line); writer.writeBytes(b, b.length); } else writer.write(line);
  if (i === 2500) writer.write("Z".repeat(10_000));
}
await writer.close();
`,
    );
    const child = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const text = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      expected.push(`p${i} ${"y".repeat(i % 300)}`);
      if (i === 2500) expected.push("Z".repeat(10_000));
    }
    expect(text).toBe(`${expected.join("\n")}\n`);
  });
});
