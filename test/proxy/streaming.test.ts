// Black-box: bodies stream both ways without buffering, SSE arrives unbuffered, a client hang-up reaches
// the upstream, and WebSocket upgrades are relayed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { configure, parseRaw, rawRequest, startUpstream } from "./helpers.ts";

let tg: TestGateway;

beforeAll(async () => {
  tg = await startTestGateway();
});

afterAll(async () => {
  await tg.stop();
});

const MB = 1024 * 1024;

/** A stream of `total` bytes in 64 KiB chunks, produced on demand (never all in memory). */
function generated(total: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(97);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const n = Math.min(chunk.length, total - sent);
      controller.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
      sent += n;
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return total;
    total += value.byteLength;
  }
}

describe("streaming", () => {
  test("a chunked upload streams through, counted against the body limit", async () => {
    const counter = startUpstream(
      async (req) =>
        Response.json({ received: await drain(req.body!), te: req.headers.get("transfer-encoding") }),
      { readBody: false },
    );
    await configure(tg, { name: "counter", url: counter.url }, [{ paths: ["/counter"] }]);
    const res = await tg.proxy("/counter", {
      method: "POST",
      body: generated(8 * MB),
      duplex: "half",
    } as RequestInit);
    expect(await res.json()).toEqual({ received: 8 * MB, te: "chunked" });
    await counter.stop();
  });

  test("a 64 KiB response (large-response workaround) arrives byte-exact with its headers", async () => {
    const body = new Uint8Array(64 * 1024).map((_, i) => i % 251);
    const sized = startUpstream(
      () => new Response(body, { headers: { "content-type": "application/x-test", "x-extra": "1" } }),
    );
    await configure(tg, { name: "sized", url: sized.url }, [{ paths: ["/sized"] }]);
    const res = await tg.proxy("/sized");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-test");
    expect(res.headers.get("x-extra")).toBe("1");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(body);
    await sized.stop();
  });

  test("one-chunk bodies stay byte-exact for clients that read slowly while other such bodies pass", async () => {
    // The buffered body is released as soon as it is written into the response (relay.ts): a client that
    // does not read makes the server hold the rest, which must be its own copy.
    const MiB = 1024 * 1024;
    const bodyOf = (seed: number, size: number) => new Uint8Array(size).map((_, i) => (i * 31 + seed) % 251);
    const patterned = startUpstream((req) => {
      const [, seed, size] = new URL(req.url).pathname.split("/");
      return new Response(bodyOf(Number(seed), Number(size)));
    });
    await configure(tg, { name: "patterned", url: patterned.url }, [{ paths: ["/patterned"] }]);
    const port = Number(new URL(tg.proxyUrl).port);
    const slowRead = (seed: number, size: number) =>
      new Promise<Buffer>((resolve, reject) => {
        const parts: Buffer[] = [];
        const socket = net.connect(port, "127.0.0.1", () => {
          socket.write(
            `GET /patterned/${seed}/${size} HTTP/1.1\r\nHost: p.test\r\nConnection: close\r\n\r\n`,
          );
          socket.pause();
          setTimeout(() => socket.resume(), 400);
        });
        socket.on("data", (d: Buffer) => parts.push(d));
        socket.on("close", () => resolve(Buffer.concat(parts)));
        socket.on("error", reject);
      });
    const slow = [slowRead(1, MiB), slowRead(2, MiB), slowRead(3, 256 * 1024)];
    // Meanwhile other bodies of the same sizes are buffered, written and released.
    for (let i = 0; i < 10; i++) {
      const res = await tg.proxy(`/patterned/${100 + i}/${i % 2 ? MiB : 256 * 1024}`);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bodyOf(100 + i, i % 2 ? MiB : 256 * 1024));
    }
    const answers = await Promise.all(slow);
    for (const [i, [seed, size]] of [
      [1, MiB],
      [2, MiB],
      [3, 256 * 1024],
    ].entries()) {
      const parsed = parseRaw(answers[i]!.toString("latin1"));
      expect(parsed.status).toBe(200);
      expect(parsed.headers["transfer-encoding"]).toBe("chunked");
      expect(Buffer.from(parsed.body, "latin1").equals(Buffer.from(bodyOf(seed!, size!)))).toBe(true);
    }
    await patterned.stop();
  });

  test("framing the client sees: Content-Length below 15,360 bytes and for HEAD, chunked in the one-chunk window (up to 1 MiB), unknown lengths passed through", async () => {
    const bytes = (n: number) => new Uint8Array(n).map((_, i) => 97 + (i % 26));
    const framed = startUpstream((req) => {
      const [, kind, size] = new URL(req.url).pathname.split("/");
      const body = bytes(Number(size));
      if (kind === "streamed")
        return new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(body);
              controller.close();
            },
          }),
        );
      return new Response(body);
    });
    await configure(tg, { name: "framed", url: framed.url }, [{ paths: ["/framed"] }]);
    const port = Number(new URL(tg.proxyUrl).port);
    const ask = async (method: string, path: string) =>
      parseRaw(
        await rawRequest(
          port,
          `${method} /framed${path} HTTP/1.1\r\nHost: framed.test\r\nConnection: close\r\n\r\n`,
          5000,
        ),
      );
    const text = (n: number) => new TextDecoder().decode(bytes(n));
    for (const [size, framing] of [
      [100, "length"],
      [15_359, "length"],
      [15_360, "chunked"],
      [64 * 1024, "chunked"],
      [1024 * 1024, "chunked"],
      // Passed through while it still streams in: Bun frames it as it does any stream (chunked), or keeps the
      // Content-Length when it already held the whole body.
      [1024 * 1024 + 1, "either"],
    ] as const) {
      const res = await ask("GET", `/sized/${size}`);
      expect(res.status).toBe(200);
      if (framing === "either")
        expect([res.headers["content-length"], res.headers["transfer-encoding"]]).toContainAnyValues([
          String(size),
          "chunked",
        ]);
      else if (framing === "length") {
        expect(res.headers["content-length"]).toBe(String(size));
        expect(res.headers["transfer-encoding"]).toBeUndefined();
      } else {
        expect(res.headers["transfer-encoding"]).toBe("chunked");
        expect(res.headers["content-length"]).toBeUndefined();
      }
      expect(res.body).toBe(text(size));
      expect(res.headers["x-portico-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    }
    const head = await ask("HEAD", "/sized/65536");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("65536");
    expect(head.body).toBe("");
    // Unknown length: passed through, chunked, or with the Content-Length Bun gives a body it already held whole.
    const streamed = await ask("GET", "/streamed/65536");
    expect([streamed.headers["content-length"], streamed.headers["transfer-encoding"]]).toContainAnyValues([
      "65536",
      "chunked",
    ]);
    expect(streamed.body).toBe(text(65_536));
    await framed.stop();
  });

  test("server-sent events arrive one by one, unbuffered", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sse = startUpstream(
      () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode("data: first\n\n"));
              await gate;
              controller.enqueue(new TextEncoder().encode("data: second\n\n"));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
        ),
    );
    await configure(tg, { name: "sse", url: sse.url }, [{ paths: ["/sse"] }]);
    const res = await tg.proxy("/sse");
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const first = await reader.read();
    // The second event is only produced after the first one reached the client.
    expect(new TextDecoder().decode(first.value)).toBe("data: first\n\n");
    release();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe("data: second\n\n");
    await sse.stop();
  });

  test("a client hang-up aborts the upstream request", async () => {
    let aborted: () => void = () => {};
    const upstreamSawAbort = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    const hanging = startUpstream((req) => {
      req.signal.addEventListener("abort", () => aborted());
      return new Promise<Response>(() => {});
    });
    await configure(tg, { name: "hanging", url: hanging.url }, [{ paths: ["/hanging"] }]);
    const client = new AbortController();
    const pending = tg.proxy("/hanging", { signal: client.signal }).catch((e: Error) => e.name);
    while (hanging.received.length === 0) await Bun.sleep(5);
    client.abort();
    expect(await pending).toBe("AbortError");
    const outcome = await Promise.race([
      upstreamSawAbort.then(() => "aborted"),
      Bun.sleep(2000).then(() => "not"),
    ]);
    expect(outcome).toBe("aborted");
    await hanging.stop();
  });
});

describe("websocket", () => {
  test("upgrade relayed both ways with the chosen subprotocol and close code", async () => {
    let upstreamClose: { code: number; reason: string } | undefined;
    let handshakeHeaders: Record<string, string> = {};
    const ws = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, server) {
        handshakeHeaders = Object.fromEntries(req.headers);
        const offered = req.headers.get("sec-websocket-protocol") ?? "";
        const chosen = offered.split(",").map((p) => p.trim())[1] ?? "";
        if (server.upgrade(req, { headers: chosen ? { "sec-websocket-protocol": chosen } : {} })) return;
        return new Response("upgrade expected", { status: 400 });
      },
      websocket: {
        open(socket) {
          socket.send("welcome");
        },
        message(socket, message) {
          if (message === "bye") socket.close(4001, "done here");
          else socket.send(typeof message === "string" ? `echo:${message}` : message);
        },
        close(_socket, code, reason) {
          upstreamClose = { code, reason };
        },
      },
    });
    await configure(tg, { name: "ws", url: `http://127.0.0.1:${ws.port}/socket` }, [{ paths: ["/ws"] }]);

    const client = new WebSocket(`${tg.proxyUrl.replace("http", "ws")}/ws/room?x=1`, ["v1", "v2"]);
    client.binaryType = "arraybuffer";
    const messages: unknown[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      client.onclose = (event) => resolve({ code: event.code, reason: event.reason });
    });
    const nextMessage = () =>
      new Promise<unknown>((resolve) => {
        client.onmessage = (event) => {
          messages.push(event.data);
          resolve(event.data);
        };
      });
    let next = nextMessage();
    await new Promise<void>((resolve, reject) => {
      client.onopen = () => resolve();
      client.onerror = () => reject(new Error("websocket failed"));
    });
    expect(client.protocol).toBe("v2");
    expect(await next).toBe("welcome");
    next = nextMessage();
    client.send("hello");
    expect(await next).toBe("echo:hello");
    next = nextMessage();
    client.send(new Uint8Array([1, 2, 3]));
    expect(new Uint8Array((await next) as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));

    expect(handshakeHeaders["x-forwarded-path"]).toBe("/ws/room");
    expect(handshakeHeaders["x-forwarded-prefix"]).toBe("/ws");
    expect(handshakeHeaders.host).toBe(`127.0.0.1:${ws.port}`);

    client.send("bye");
    expect(await closed).toEqual({ code: 4001, reason: "done here" });
    ws.stop(true);
    expect(upstreamClose?.code).toBe(4001);
  });

  test("client close code reaches the upstream", async () => {
    const closes: number[] = [];
    const ws = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, server) {
        if (server.upgrade(req)) return;
        return new Response(null, { status: 400 });
      },
      websocket: {
        message() {},
        close(_socket, code) {
          closes.push(code);
        },
      },
    });
    await configure(tg, { name: "ws2", url: `http://127.0.0.1:${ws.port}` }, [{ paths: ["/ws2"] }]);
    const client = new WebSocket(`${tg.proxyUrl.replace("http", "ws")}/ws2`);
    await new Promise<void>((resolve) => {
      client.onopen = () => resolve();
    });
    client.close(4002, "leaving");
    for (let i = 0; i < 200 && closes.length === 0; i++) await Bun.sleep(5);
    expect(closes).toEqual([4002]);
    ws.stop(true);
  });

  test("Upgrade: websocket without a handshake (no key, no Connection: upgrade, not GET) is a plain request", async () => {
    const plain = startUpstream(() => new Response("plain answer", { status: 200 }));
    await configure(tg, { name: "ws4", url: plain.url }, [{ paths: ["/ws4"] }]);
    for (const [method, headers] of [
      ["GET", { upgrade: "websocket" }],
      ["GET", { upgrade: "websocket", connection: "Upgrade" }],
      [
        "GET",
        {
          upgrade: "websocket",
          connection: "keep-alive",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      ],
      [
        "POST",
        {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      ],
    ] as const) {
      const res = await tg.proxy("/ws4", { method, headers });
      expect({ method, headers, status: res.status, body: await res.text() }).toEqual({
        method,
        headers,
        status: 200,
        body: "plain answer",
      });
      const received = plain.received.at(-1)!;
      expect(received.headers.upgrade).toBeUndefined();
    }
    await plain.stop();
  });

  test("upstream that refuses the upgrade: 502", async () => {
    const plain = startUpstream(() => new Response("no websockets here", { status: 404 }));
    await configure(tg, { name: "ws3", url: plain.url }, [{ paths: ["/ws3"] }]);
    const res = await tg.proxy("/ws3", {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    expect(res.status).toBe(502);
    await plain.stop();
  });
});
