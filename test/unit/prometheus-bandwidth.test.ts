// prometheus' kong_bandwidth_bytes egress: the body bytes of every response, plus the status line and header
// bytes of its route as measured on the route's first response, whenever the number of headers changes, and
// every 64 responses (sizing the headers reads every one of them; the responses in between reuse the figure).
import { describe, expect, test } from "bun:test";
import type { PluginInstance } from "../../src/plugins/contract.ts";
import { MetricsRegistry } from "../../src/plugins/metrics.ts";
import { prometheus } from "../../src/plugins/prometheus/index.ts";
import { Transaction } from "../../src/proxy/transaction.ts";

const ROUTE = { id: "r-1", name: "metered" };
const SERVICE = { id: "s-1", name: "svc", host: "upstream.test" };
const EGRESS =
  'kong_bandwidth_bytes\u0000service="svc",route="metered",direction="egress",workspace="default",consumer=""';
const INGRESS =
  'kong_bandwidth_bytes\u0000service="svc",route="metered",direction="ingress",workspace="default",consumer=""';

function world() {
  const registry = new MetricsRegistry();
  const config = prometheus.config.parse({ bandwidth_metrics: true });
  const instance = prometheus.compile(config, { metrics: registry } as never, {} as never) as PluginInstance;
  const request = new Request("http://gateway.test/metered", { headers: { host: "gateway.test" } });
  const respond = (headers: Headers, body: number) => {
    const tx = new Transaction(request, "id", "GET", 0, "/metered", "203.0.113.9", "http", "8000");
    tx.route = ROUTE as never;
    tx.upstream = SERVICE as never;
    tx.status = 200;
    tx.source = "upstream";
    tx.doneAt = 1;
    tx.responseHeaders = headers;
    tx.bodySize = body;
    instance.log!({} as never, tx);
    return tx;
  };
  const egress = () => registry.snapshot().counters[EGRESS];
  const ingress = () => registry.snapshot().counters[INGRESS];
  return { respond, egress, ingress };
}

const headers = (etag: string) => new Headers({ "content-type": "text/plain", etag });

describe("prometheus bandwidth", () => {
  test("egress: each body's bytes, the route's header bytes as measured", () => {
    const w = world();
    const first = w.respond(headers('"a"'), 100);
    expect(w.egress()).toBe(first.responseSize);
    // Same number of headers, longer value: its body counts, the header bytes are the route's last measure.
    const longer = w.respond(headers('"a-much-longer-entity-tag"'), 50);
    expect(w.egress()).toBe(2 * first.responseSize - 100 + 50);
    expect(longer.responseSize).toBeGreaterThan(first.responseSize - 100 + 50);
    // A response with another number of headers is measured again.
    const more = new Headers({ "content-type": "text/plain", etag: '"b"', vary: "Origin" });
    const third = w.respond(more, 7);
    expect(w.egress()).toBe(2 * first.responseSize - 100 + 50 + third.responseSize);
    // Ingress is every request's own size.
    expect(w.ingress()).toBe(3 * first.requestSize);
  });

  test("the header bytes are measured again every 64 responses", () => {
    const w = world();
    const first = w.respond(headers('"a"'), 0);
    const head = first.responseSize;
    // Responses 2 to 64 reuse the first one's header bytes; the 65th is measured.
    for (let i = 1; i < 64; i++) w.respond(headers('"a-longer-tag"'), 0);
    expect(w.egress()).toBe(64 * head);
    const measured = w.respond(headers('"a-longer-tag"'), 0);
    expect(measured.responseSize).toBeGreaterThan(head);
    expect(w.egress()).toBe(64 * head + measured.responseSize);
    w.respond(headers('"a-longer-tag"'), 0);
    expect(w.egress()).toBe(64 * head + 2 * measured.responseSize);
  });
});
