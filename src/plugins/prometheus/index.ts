// prometheus (Kong's bundled plugin, priority 13): records each request of the routes it applies to into the
// node's metrics — status codes, the three latencies and bandwidth, each group only when its flag is on
// (Kong's defaults: all off). The node serves them at /metrics on the admin and status listeners, together
// with the node-level metrics that are always there.
import { z } from "zod";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean } from "../config-fields.ts";
import type { LogEntry, PluginDescriptor } from "../contract.ts";
import { type CounterSeries, type HistogramSeries, labelSet } from "../metrics.ts";
import { BANDWIDTH, HTTP_REQUESTS, KONG_LATENCY, REQUEST_LATENCY, UPSTREAM_LATENCY } from "./families.ts";

export const prometheusConfig = lazy(() =>
  z.strictObject({
    per_consumer: configBoolean(false),
    status_code_metrics: configBoolean(false),
    ai_metrics: configBoolean(false),
    latency_metrics: configBoolean(false),
    bandwidth_metrics: configBoolean(false),
    upstream_health_metrics: configBoolean(false),
    wasm_metrics: configBoolean(false),
  }),
);

export type PrometheusConfig = z.output<ReturnType<typeof prometheusConfig>>;

/** Kong OSS has one workspace. */
const WORKSPACE = "default";

/** Every how many responses of a route its header bytes are walked again (see RouteSeries.head). */
const HEAD_EVERY = 64;

/** The counters of one consumer on one route: by status code and source, and both bandwidth directions. */
type ConsumerSeries = {
  /** By status and source (`status * 2`, plus 1 for the service's own answers). */
  requests: Map<number, CounterSeries>;
  /** The previous request's status and source, and its counter: most requests in a row repeat them. */
  lastCode: number;
  lastRequests: CounterSeries | null;
  ingress: CounterSeries | null;
  egress: CounterSeries | null;
};

/**
 * The series one route records into, found once per route and snapshot (the route object is the snapshot's):
 * the latency histograms, and the status and bandwidth counters by the few values that vary per request. A
 * request then costs a short map lookup and an increment, not a label string and a registry search.
 */
type RouteSeries = {
  service: string;
  route: string;
  request: HistogramSeries;
  upstream: HistogramSeries;
  kong: HistogramSeries;
  consumers: Map<string, ConsumerSeries>;
  /** The previous request's consumer on this route (no map lookup when the next one is the same). */
  lastConsumer: string | null;
  lastSeries: ConsumerSeries | null;
  /**
   * Egress is Kong's bytes_sent: status line, headers and body. The body is counted as it is known; sizing
   * the headers means reading every one of them (~0.7 µs, the most expensive thing this hook did), so a
   * route's header bytes are measured on its first response, again whenever the number of headers changes,
   * and every HEAD_EVERY responses; the responses in between count the last measured header bytes.
   */
  head: number;
  headCount: number;
  sinceHead: number;
};

export const prometheus: PluginDescriptor<PrometheusConfig> = {
  name: "prometheus",
  priority: 13,
  version: "1.0.0",
  get config() {
    return prometheusConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config, env) {
    const metrics = env.metrics;
    const anything =
      config.status_code_metrics || config.latency_metrics || config.bandwidth_metrics || config.per_consumer;
    if (!anything) return {};
    const byRoute = new WeakMap<object, RouteSeries>();
    // The route of the previous request: under load, most requests in a row go to the same route.
    let lastRoute: object | null = null;
    let last: RouteSeries | null = null;
    const seriesOf = (route: LogEntry["route"] & object, service: string): RouteSeries => {
      if (route === lastRoute && last!.service === service) return last!;
      let found = byRoute.get(route);
      if (found === undefined || found.service !== service) {
        const name = route.name ?? route.id;
        const latency = labelSet(KONG_LATENCY, [service, name, WORKSPACE]);
        found = {
          service,
          route: name,
          request: metrics.histogram(REQUEST_LATENCY, latency),
          upstream: metrics.histogram(UPSTREAM_LATENCY, latency),
          kong: metrics.histogram(KONG_LATENCY, latency),
          consumers: new Map(),
          lastConsumer: null,
          lastSeries: null,
          head: 0,
          headCount: -1,
          sinceHead: 0,
        };
        byRoute.set(route, found);
      }
      lastRoute = route;
      last = found;
      return found;
    };
    const consumerOf = (s: RouteSeries, consumer: string): ConsumerSeries => {
      if (consumer === s.lastConsumer) return s.lastSeries!;
      let found = s.consumers.get(consumer);
      if (found === undefined) {
        found = { requests: new Map(), lastCode: -1, lastRequests: null, ingress: null, egress: null };
        s.consumers.set(consumer, found);
      }
      s.lastConsumer = consumer;
      s.lastSeries = found;
      return found;
    };
    /** A direction's counter appears with its first bytes (as every series: only once it has something). */
    const bandwidth = (s: RouteSeries, direction: "ingress" | "egress", consumer: string): CounterSeries =>
      metrics.counter(BANDWIDTH, labelSet(BANDWIDTH, [s.service, s.route, direction, WORKSPACE, consumer]));
    const requests = (
      s: RouteSeries,
      c: ConsumerSeries,
      status: number,
      upstream: boolean,
      consumer: string,
    ) => {
      const code = status * 2 + (upstream ? 1 : 0);
      if (code === c.lastCode) return c.lastRequests!;
      let counter = c.requests.get(code);
      if (counter === undefined) {
        const source = upstream ? "service" : "kong";
        counter = metrics.counter(
          HTTP_REQUESTS,
          labelSet(HTTP_REQUESTS, [s.service, s.route, String(status), source, WORKSPACE, consumer]),
        );
        c.requests.set(code, counter);
      }
      c.lastCode = code;
      c.lastRequests = counter;
      return counter;
    };
    /** Bytes sent to the client: the route's measured status line and header bytes, and the body. */
    const egressOf = (s: RouteSeries, entry: LogEntry): number => {
      const headers = entry.responseHeaders;
      const count = headers === null ? 0 : headers.count;
      if (count !== s.headCount || ++s.sinceHead >= HEAD_EVERY) {
        s.head = entry.responseSize - entry.bodySize;
        s.headCount = count;
        s.sinceHead = 0;
      }
      return s.head + entry.bodySize;
    };
    const { status_code_metrics, latency_metrics, bandwidth_metrics, per_consumer } = config;
    return {
      // Bandwidth needs the sizes (the request's headers as received); the rest reads only the facts.
      logReads: bandwidth_metrics ? "sizes" : "facts",
      log(_ctx, entry) {
        // As Kong: only requests that matched a route are counted.
        const route = entry.route;
        if (route === null) return;
        const service = entry.service === null ? "" : (entry.service.name ?? entry.service.host);
        const s = seriesOf(route, service);
        if (latency_metrics) {
          const { kong, proxy, request } = entry.latencies;
          if (request >= 0) s.request.observe(request);
          if (proxy >= 0) s.upstream.observe(proxy);
          if (kong >= 0) s.kong.observe(kong);
        }
        if (!status_code_metrics && !bandwidth_metrics) return;
        const consumer = per_consumer ? (entry.consumer?.username ?? "") : "";
        const c = consumerOf(s, consumer);
        if (status_code_metrics) requests(s, c, entry.status, entry.source === "upstream", consumer).add(1);
        if (bandwidth_metrics) {
          const ingress = entry.requestSize;
          if (ingress > 0) {
            c.ingress ??= bandwidth(s, "ingress", consumer);
            c.ingress.add(ingress);
          }
          const egress = egressOf(s, entry);
          if (egress > 0) {
            c.egress ??= bandwidth(s, "egress", consumer);
            c.egress.add(egress);
          }
        }
      },
    };
  },
};
