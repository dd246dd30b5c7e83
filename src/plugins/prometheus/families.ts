// Kong's metric names, labels and buckets (kong/plugins/prometheus/exporter.lua), so Kong's Grafana dashboard
// reads Portico unchanged. Node-level families are always exported; the per-request ones only once a
// prometheus plugin asks for them (their series are what Kong's users fight over: cardinality).
import type { MetricFamily } from "../metrics.ts";

const KONG_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000];
const UPSTREAM_LATENCY_BUCKETS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];

// --- node level ---------------------------------------------------------------------------------------------

export const NODE_INFO: MetricFamily = {
  name: "kong_node_info",
  help: "This node: its id and version (always 1)",
  type: "gauge",
  labels: ["node_id", "version"],
};

export const CONNECTIONS: MetricFamily = {
  name: "kong_nginx_connections_total",
  help: "Requests in progress (active) and handled since start (total) on this node",
  type: "gauge",
  labels: ["node_id", "subsystem", "state"],
};

export const REQUESTS: MetricFamily = {
  name: "kong_nginx_requests_total",
  help: "Requests handled by this node since it started",
  type: "gauge",
  labels: ["node_id", "subsystem"],
};

export const DATASTORE_REACHABLE: MetricFamily = {
  name: "kong_datastore_reachable",
  help: "1 when the database answers, 0 when it does not",
  type: "gauge",
  labels: [],
};

export const WORKER_MEMORY: MetricFamily = {
  name: "kong_memory_workers_lua_vms_bytes",
  help: "JavaScript heap in use by each proxy worker, in bytes",
  type: "gauge",
  labels: ["node_id", "pid", "kong_subsystem"],
};

export const SHARED_DICT: MetricFamily = {
  name: "kong_memory_lua_shared_dict_bytes",
  help: "Bytes in use in memory shared by the workers",
  type: "gauge",
  labels: ["node_id", "shared_dict", "kong_subsystem"],
};

export const SHARED_DICT_TOTAL: MetricFamily = {
  name: "kong_memory_lua_shared_dict_total_bytes",
  help: "Capacity in bytes of memory shared by the workers",
  type: "gauge",
  labels: ["node_id", "shared_dict", "kong_subsystem"],
};

// --- per request, opt-in ------------------------------------------------------------------------------------

export const HTTP_REQUESTS: MetricFamily = {
  name: "kong_http_requests_total",
  help: "Responses by status code, service, route and (per_consumer) consumer",
  type: "counter",
  labels: ["service", "route", "code", "source", "workspace", "consumer"],
};

export const KONG_LATENCY: MetricFamily = {
  name: "kong_kong_latency_ms",
  help: "Milliseconds spent in the gateway (routing and plugins) per request",
  type: "histogram",
  labels: ["service", "route", "workspace"],
  buckets: KONG_LATENCY_BUCKETS,
};

export const UPSTREAM_LATENCY: MetricFamily = {
  name: "kong_upstream_latency_ms",
  help: "Milliseconds waiting for the upstream's response head per request",
  type: "histogram",
  labels: ["service", "route", "workspace"],
  buckets: UPSTREAM_LATENCY_BUCKETS,
};

export const REQUEST_LATENCY: MetricFamily = {
  name: "kong_request_latency_ms",
  help: "Milliseconds from the first byte received to the response handed over",
  type: "histogram",
  labels: ["service", "route", "workspace"],
  buckets: UPSTREAM_LATENCY_BUCKETS,
};

export const BANDWIDTH: MetricFamily = {
  name: "kong_bandwidth_bytes",
  help: "Bytes received from clients (ingress) and sent to them (egress)",
  type: "counter",
  labels: ["service", "route", "direction", "workspace", "consumer"],
};

/** Kong's upstream_health_metrics: per address, 1 on its current state and 0 on the others. */
export const UPSTREAM_TARGET_HEALTH: MetricFamily = {
  name: "kong_upstream_target_health",
  help: "Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.",
  type: "gauge",
  labels: ["upstream", "target", "address", "state", "subsystem"],
};

/** Every family, in the order they are exported. */
export const KONG_FAMILIES: readonly MetricFamily[] = [
  BANDWIDTH,
  DATASTORE_REACHABLE,
  HTTP_REQUESTS,
  KONG_LATENCY,
  SHARED_DICT,
  SHARED_DICT_TOTAL,
  WORKER_MEMORY,
  CONNECTIONS,
  REQUESTS,
  NODE_INFO,
  REQUEST_LATENCY,
  UPSTREAM_LATENCY,
  UPSTREAM_TARGET_HEALTH,
];
