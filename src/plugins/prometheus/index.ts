// prometheus (Kong's bundled plugin, priority 13): records each request of the routes it applies to into the
// node's metrics — status codes, the three latencies and bandwidth, each group only when its flag is on
// (Kong's defaults: all off). The node serves them at /metrics on the admin and status listeners, together
// with the node-level metrics that are always there.
import { z } from "zod";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean } from "../config-fields.ts";
import type { PluginDescriptor } from "../contract.ts";
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

/**
 * The series one route records into, found once per route and snapshot (the route object is the snapshot's):
 * the latency histograms, and the status and bandwidth counters by the few values that vary per request. A
 * request then costs a short map lookup and an increment, not a label string and a registry search.
 */
type RouteSeries = {
  service: string;
  route: string;
  latency: { request: HistogramSeries; upstream: HistogramSeries; kong: HistogramSeries };
  /** By status and source (`status * 2`, plus 1 for the service's own answers), then consumer. */
  requests: Map<number, Map<string, CounterSeries>>;
  /** By consumer: both directions. */
  bandwidth: Map<string, { ingress: CounterSeries | null; egress: CounterSeries | null }>;
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
    const byRoute = new WeakMap<object, RouteSeries>();
    const seriesOf = (route: { id: string; name: string | null }, service: string): RouteSeries => {
      let found = byRoute.get(route);
      if (found === undefined || found.service !== service) {
        const name = route.name ?? route.id;
        const latency = labelSet(KONG_LATENCY, [service, name, WORKSPACE]);
        found = {
          service,
          route: name,
          latency: {
            request: metrics.histogram(REQUEST_LATENCY, latency),
            upstream: metrics.histogram(UPSTREAM_LATENCY, latency),
            kong: metrics.histogram(KONG_LATENCY, latency),
          },
          requests: new Map(),
          bandwidth: new Map(),
        };
        byRoute.set(route, found);
      }
      return found;
    };
    const anything =
      config.status_code_metrics || config.latency_metrics || config.bandwidth_metrics || config.per_consumer;
    if (!anything) return {};
    /** A direction's counter appears with its first bytes (as every series: only once it has something). */
    const bandwidth = (s: RouteSeries, direction: "ingress" | "egress", consumer: string): CounterSeries => {
      let counters = s.bandwidth.get(consumer);
      if (counters === undefined) {
        counters = { ingress: null, egress: null };
        s.bandwidth.set(consumer, counters);
      }
      let counter = counters[direction];
      if (counter === null) {
        counter = metrics.counter(
          BANDWIDTH,
          labelSet(BANDWIDTH, [s.service, s.route, direction, WORKSPACE, consumer]),
        );
        counters[direction] = counter;
      }
      return counter;
    };
    const requests = (s: RouteSeries, status: number, source: "service" | "kong", consumer: string) => {
      const code = status * 2 + (source === "service" ? 1 : 0);
      let byConsumer = s.requests.get(code);
      if (byConsumer === undefined) {
        byConsumer = new Map();
        s.requests.set(code, byConsumer);
      }
      let counter = byConsumer.get(consumer);
      if (counter === undefined) {
        counter = metrics.counter(
          HTTP_REQUESTS,
          labelSet(HTTP_REQUESTS, [s.service, s.route, String(status), source, WORKSPACE, consumer]),
        );
        byConsumer.set(consumer, counter);
      }
      return counter;
    };
    return {
      // Bandwidth needs the sizes (the request's headers as received); the rest reads only the facts.
      logReads: config.bandwidth_metrics ? "sizes" : "facts",
      log(_ctx, entry) {
        // As Kong: only requests that matched a route are counted.
        const route = entry.route;
        if (route === null) return;
        const service = entry.service === null ? "" : (entry.service.name ?? entry.service.host);
        const s = seriesOf(route, service);
        const consumer = config.per_consumer ? (entry.consumer?.username ?? "") : "";
        if (config.status_code_metrics)
          requests(s, entry.status, entry.source === "upstream" ? "service" : "kong", consumer).add(1);
        if (config.latency_metrics) {
          const { kong, proxy, request } = entry.latencies;
          if (request >= 0) s.latency.request.observe(request);
          if (proxy >= 0) s.latency.upstream.observe(proxy);
          if (kong >= 0) s.latency.kong.observe(kong);
        }
        if (config.bandwidth_metrics) {
          const ingress = entry.requestSize;
          const egress = entry.responseSize;
          if (ingress > 0) bandwidth(s, "ingress", consumer).add(ingress);
          if (egress > 0) bandwidth(s, "egress", consumer).add(egress);
        }
      },
    };
  },
};
