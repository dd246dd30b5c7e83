// prometheus (Kong's bundled plugin, priority 13): records each request of the routes it applies to into the
// node's metrics — status codes, the three latencies and bandwidth, each group only when its flag is on
// (Kong's defaults: all off). The node serves them at /metrics on the admin and status listeners, together
// with the node-level metrics that are always there.
import { z } from "zod";
import { configBoolean } from "../config-fields.ts";
import type { PluginDescriptor } from "../contract.ts";
import { labelSet } from "../metrics.ts";
import { BANDWIDTH, HTTP_REQUESTS, KONG_LATENCY, REQUEST_LATENCY, UPSTREAM_LATENCY } from "./families.ts";

export const prometheusConfig = z.strictObject({
  per_consumer: configBoolean(false),
  status_code_metrics: configBoolean(false),
  ai_metrics: configBoolean(false),
  latency_metrics: configBoolean(false),
  bandwidth_metrics: configBoolean(false),
  upstream_health_metrics: configBoolean(false),
  wasm_metrics: configBoolean(false),
});

export type PrometheusConfig = z.output<typeof prometheusConfig>;

/** Kong OSS has one workspace. */
const WORKSPACE = "default";

/** The label sets of one route, built once per route and snapshot (the route object is the snapshot's). */
type RouteLabels = { service: string; route: string; latency: string };

export const prometheus: PluginDescriptor<PrometheusConfig> = {
  name: "prometheus",
  priority: 13,
  version: "1.0.0",
  config: prometheusConfig,
  scoping: { consumer: true, route: true, service: true },
  compile(config, env) {
    const metrics = env.metrics;
    const labels = new WeakMap<object, RouteLabels>();
    const labelsOf = (route: { id: string; name: string | null }, service: string): RouteLabels => {
      let found = labels.get(route);
      if (found === undefined) {
        const name = route.name ?? route.id;
        found = { service, route: name, latency: labelSet(KONG_LATENCY, [service, name, WORKSPACE]) };
        labels.set(route, found);
      }
      return found;
    };
    const anything =
      config.status_code_metrics || config.latency_metrics || config.bandwidth_metrics || config.per_consumer;
    if (!anything) return {};
    return {
      log(_ctx, entry) {
        // As Kong: only requests that matched a route are counted.
        const route = entry.route;
        if (route === null) return;
        const service = entry.service === null ? "" : (entry.service.name ?? entry.service.host);
        const l = labelsOf(route, service);
        const consumer = config.per_consumer ? (entry.consumer?.username ?? "") : "";
        if (config.status_code_metrics) {
          const source = entry.source === "upstream" ? "service" : "kong";
          metrics.add(
            HTTP_REQUESTS,
            labelSet(HTTP_REQUESTS, [l.service, l.route, String(entry.status), source, WORKSPACE, consumer]),
            1,
          );
        }
        if (config.latency_metrics) {
          const { kong, proxy, request } = entry.latencies;
          if (request >= 0) metrics.observe(REQUEST_LATENCY, l.latency, request);
          if (proxy >= 0) metrics.observe(UPSTREAM_LATENCY, l.latency, proxy);
          if (kong >= 0) metrics.observe(KONG_LATENCY, l.latency, kong);
        }
        if (config.bandwidth_metrics) {
          const ingress = entry.requestSize;
          const egress = entry.responseSize;
          if (ingress > 0)
            metrics.add(
              BANDWIDTH,
              labelSet(BANDWIDTH, [l.service, l.route, "ingress", WORKSPACE, consumer]),
              ingress,
            );
          if (egress > 0)
            metrics.add(
              BANDWIDTH,
              labelSet(BANDWIDTH, [l.service, l.route, "egress", WORKSPACE, consumer]),
              egress,
            );
        }
      },
    };
  },
};
