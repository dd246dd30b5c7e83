// Black-box: upstream failures (502/503/504, retries) and request limits (400/413/414/431).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { configure, parseRaw, rawRequest, startUpstream, type Upstream } from "./helpers.ts";

let tg: TestGateway;
let up: Upstream;
let proxyPort: number;

beforeAll(async () => {
  tg = await startTestGateway(["--proxy-body-limit", "1m"]);
  proxyPort = Number(new URL(tg.proxyUrl).port);
  up = startUpstream();
  await configure(tg, { name: "echo", url: up.url }, [{ paths: ["/echo"] }]);
});

afterAll(async () => {
  await tg.stop();
  await up.stop();
});

/** A TCP listener that accepts and immediately resets every connection, counting them. */
function resettingUpstream() {
  let connections = 0;
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        connections++;
        socket.terminate();
      },
      data() {},
    },
  });
  return { port: listener.port, count: () => connections, stop: () => listener.stop(true) };
}

/** A port with nothing listening on it. */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function expectGatewayError(res: Response, status: number, message: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
  const id = res.headers.get("x-portico-request-id");
  expect(await res.json()).toEqual({ message, request_id: id });
}

describe("upstream failures", () => {
  test("connection refused: 502 JSON, fast", async () => {
    await configure(tg, { name: "refused", url: `http://127.0.0.1:${closedPort()}`, retries: 0 }, [
      { paths: ["/refused"] },
    ]);
    const started = performance.now();
    const res = await tg.proxy("/refused");
    await expectGatewayError(res, 502, "An invalid response was received from the upstream server");
    expect(res.headers.get("x-portico-upstream-latency")).toMatch(/^\d+$/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("unknown host: 503 name resolution failed", async () => {
    await configure(tg, { name: "nxdomain", url: "http://does-not-exist.invalid", retries: 0 }, [
      { paths: ["/nxdomain"] },
    ]);
    await expectGatewayError(await tg.proxy("/nxdomain"), 503, "name resolution failed");
  });

  test("connection failures are retried `retries` times for idempotent methods, never for POST", async () => {
    const reset = resettingUpstream();
    await configure(tg, { name: "flaky", url: `http://127.0.0.1:${reset.port}`, retries: 3 }, [
      { paths: ["/flaky"] },
    ]);
    await expectGatewayError(
      await tg.proxy("/flaky"),
      502,
      "An invalid response was received from the upstream server",
    );
    expect(reset.count()).toBe(4);
    await expectGatewayError(
      await tg.proxy("/flaky", { method: "POST", body: "x" }),
      502,
      "An invalid response was received from the upstream server",
    );
    expect(reset.count()).toBe(5);
    reset.stop();
  });

  test("a retry that reaches a working upstream succeeds", async () => {
    let calls = 0;
    const recovering = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          if (++calls <= 2) socket.terminate();
        },
        data(socket) {
          socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        },
      },
    });
    await configure(tg, { name: "recovering", url: `http://127.0.0.1:${recovering.port}`, retries: 2 }, [
      { paths: ["/recovering"] },
    ]);
    const res = await tg.proxy("/recovering");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(calls).toBe(3);
    recovering.stop(true);
  });

  test("read timeout while waiting for headers: 504, on time", async () => {
    const slow = startUpstream(async () => {
      await Bun.sleep(1500);
      return new Response("late");
    });
    await configure(tg, { name: "slow", url: slow.url, read_timeout: 200, retries: 0 }, [
      { paths: ["/slow"] },
    ]);
    const started = performance.now();
    await expectGatewayError(await tg.proxy("/slow"), 504, "The upstream server is timing out");
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1000);
    await slow.stop();
  });

  test("the read timeout never cuts a body that is still streaming", async () => {
    const dribble = startUpstream(
      () =>
        new Response(
          new ReadableStream({
            async pull(controller) {
              for (let i = 0; i < 4; i++) {
                controller.enqueue(new TextEncoder().encode(`chunk${i};`));
                await Bun.sleep(150);
              }
              controller.close();
            },
          }),
        ),
    );
    await configure(tg, { name: "dribble", url: dribble.url, read_timeout: 100 }, [{ paths: ["/dribble"] }]);
    const res = await tg.proxy("/dribble");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("chunk0;chunk1;chunk2;chunk3;");
    await dribble.stop();
  });

  test(
    "an upstream call longer than Bun's default 10 s idle timeout is not cut (listener timeout off)",
    async () => {
      // Bun.serve's default idle timeout (10 s, firing at 10–12 s, PLATFORM-NOTES) also cuts a handler that
      // is still waiting; the proxy listener runs with it off. 13 s is past the window, so this fails if
      // the listener ever falls back to the default.
      const patient = startUpstream(async () => {
        await Bun.sleep(13_000);
        return new Response("worth the wait");
      });
      await configure(tg, { name: "patient", url: patient.url }, [{ paths: ["/patient"] }]);
      const res = await tg.proxy("/patient");
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("worth the wait");
      await patient.stop();
    },
    { timeout: 20_000 },
  );
});

describe("request limits and ambiguous requests", () => {
  test("Content-Length above the body limit: 413 JSON, upstream not called", async () => {
    const before = up.received.length;
    const res = await tg.proxy("/echo", { method: "POST", body: new Uint8Array(1024 * 1024 + 1) });
    await expectGatewayError(res, 413, "Request size limit exceeded");
    expect(up.received.length).toBe(before);
  });

  test("a body at the limit passes", async () => {
    const res = await tg.proxy("/echo", { method: "POST", body: "y".repeat(1024 * 1024) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { body: string }).body.length).toBe(1024 * 1024);
  });

  test("a chunked body that grows past the limit: 413 JSON", async () => {
    const chunk = "z".repeat(64 * 1024);
    const res = await tg.proxy("/echo", {
      method: "POST",
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      }),
    });
    await expectGatewayError(res, 413, "Request size limit exceeded");
  });

  test("request target above 8 KiB: 414 JSON", async () => {
    const res = await tg.proxy(`/echo?${"q".repeat(8200)}`);
    await expectGatewayError(res, 414, "URI too long");
  });

  test("headers above Bun's 16 KiB limit: 431 from the listener", async () => {
    const answer = await rawRequest(
      proxyPort,
      `GET /echo HTTP/1.1\r\nHost: h\r\nX-Big: ${"b".repeat(20000)}\r\nConnection: close\r\n\r\n`,
    );
    expect(parseRaw(answer).status).toBe(431);
  });

  test("two Host headers: 400", async () => {
    const before = up.received.length;
    const answer = await rawRequest(
      proxyPort,
      "GET /echo HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n",
    );
    const res = parseRaw(answer);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toBe("Bad request");
    expect(up.received.length).toBe(before);
  });

  test("Content-Length with Transfer-Encoding: 400, never forwarded", async () => {
    const before = up.received.length;
    const answer = await rawRequest(
      proxyPort,
      "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        "5\r\nhello\r\n0\r\n\r\n",
    );
    expect(parseRaw(answer).status).toBe(400);
    expect(up.received.length).toBe(before);
  });
});
