// The metrics registry and its Prometheus text (pure logic): series recorded, summed across planes and
// rendered as the text format wants (HELP/TYPE once, escaped labels, cumulative buckets, +Inf = count) —
// checked by the strict parser the black-box suites use, which is itself checked against malformed texts.
import { describe, expect, test } from "bun:test";
import {
  labelSet,
  type MetricFamily,
  MetricsRegistry,
  mergeSnapshots,
  renderMetrics,
} from "../../src/plugins/metrics.ts";
import { parsePrometheus, sampleValue } from "../support/prometheus.ts";

const REQUESTS: MetricFamily = {
  name: "t_requests_total",
  help: "h",
  type: "counter",
  labels: ["route", "code"],
};
const LATENCY: MetricFamily = {
  name: "t_latency_ms",
  help: "latency",
  type: "histogram",
  labels: ["route"],
  buckets: [1, 5, 10],
};
const UP: MetricFamily = { name: "t_up", help: "up", type: "gauge", labels: [] };

describe("registry and rendering", () => {
  test("counters and histograms from two planes are summed; the text parses strictly", () => {
    const a = new MetricsRegistry();
    const b = new MetricsRegistry();
    a.add(REQUESTS, labelSet(REQUESTS, ["r1", "200"]), 1);
    a.add(REQUESTS, labelSet(REQUESTS, ["r1", "200"]), 1);
    b.add(REQUESTS, labelSet(REQUESTS, ["r1", "200"]), 1);
    b.add(REQUESTS, labelSet(REQUESTS, ['we"ird\\route\nname', "500"]), 2);
    for (const v of [0.5, 1, 3]) a.observe(LATENCY, labelSet(LATENCY, ["r1"]), v);
    for (const v of [7, 99]) b.observe(LATENCY, labelSet(LATENCY, ["r1"]), v);
    const text = renderMetrics(
      [REQUESTS, LATENCY, UP],
      [{ family: UP, labels: [], value: 1 }],
      mergeSnapshots([a.snapshot(), b.snapshot()]),
    );
    const families = parsePrometheus(text);
    expect(sampleValue(families, "t_requests_total", { route: "r1", code: "200" })).toBe(3);
    expect(sampleValue(families, "t_requests_total", { route: 'we"ird\\route\nname' })).toBe(2);
    expect(sampleValue(families, "t_up")).toBe(1);
    const buckets = families.get("t_latency_ms")!.samples.filter((s) => s.name === "t_latency_ms_bucket");
    expect(buckets.map((s) => [s.labels.le, s.value])).toEqual([
      ["1", 2],
      ["5", 3],
      ["10", 4],
      ["+Inf", 5],
    ]);
    expect(sampleValue(families, "t_latency_ms_sum")).toBe(110.5);
    expect(sampleValue(families, "t_latency_ms_count")).toBe(5);
    expect(text).toContain("# HELP t_requests_total h\n# TYPE t_requests_total counter\n");
    expect(text).toContain("t_up 1\n");
  });

  test("families without series are left out; nothing recorded renders nothing", () => {
    expect(renderMetrics([REQUESTS, LATENCY], [], new MetricsRegistry().snapshot())).toBe("");
  });
});

describe("the strict parser refuses what Prometheus would", () => {
  const bad: [string, string][] = [
    ["no trailing newline", "a 1"],
    ["a bad name", "1a 1\n"],
    ["an unquoted label", "a{x=1} 1\n"],
    ["a bad escape", 'a{x="\\t"} 1\n'],
    ["a bad value", "a one\n"],
    ["a repeated series", "a 1\na 2\n"],
    ["a family split in two", '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="y"} 2\n'],
    ["TYPE after samples", "a 1\n# TYPE a gauge\n"],
    ["a negative counter", "# TYPE a counter\na -1\n"],
    [
      "a histogram whose +Inf is not its count",
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 3\n',
    ],
    [
      "buckets that are not cumulative",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n',
    ],
  ];
  for (const [name, text] of bad) test(name, () => expect(() => parsePrometheus(text)).toThrow());
});
