// Metric series of one proxy plane (a thread), and their Prometheus text. Plugins record into the plane's
// registry on the request path (a map update per series, nothing else); a scrape asks every plane of the node
// for a snapshot — plain data, so a worker thread can post it — sums them, and renders Kong's exposition.

export type MetricType = "counter" | "gauge" | "histogram";

export type MetricFamily = {
  /** Full name, Kong's prefix included (`kong_http_requests_total`). */
  name: string;
  help: string;
  type: MetricType;
  labels: readonly string[];
  /** Histograms: upper bounds in ascending order (the +Inf bucket is implied). */
  buckets?: readonly number[];
};

/** A histogram series: per bucket (not cumulative; the last is +Inf), the sum and the count. */
export type HistogramData = { buckets: number[]; sum: number; count: number };

/** A plane's series. Keys are `<family>\u0000<rendered labels>`. */
export type MetricsSnapshot = {
  counters: Record<string, number>;
  histograms: Record<string, HistogramData>;
};

/** Where plugins record (one per proxy plane; summed over the node's planes when scraped). */
export interface MetricsRecorder {
  /** Adds `value` to the counter series with these label values (in the family's label order). */
  add(family: MetricFamily, labels: string, value: number): void;
  /** Counts `value` into the histogram series. */
  observe(family: MetricFamily, labels: string, value: number): void;
  /**
   * The counter series itself, for a caller that records into it again and again (it keeps the handle: no
   * key is built and no map is searched per request).
   */
  counter(family: MetricFamily, labels: string): CounterSeries;
  histogram(family: MetricFamily, labels: string): HistogramSeries;
}

export type CounterSeries = { add(value: number): void };
export type HistogramSeries = { observe(value: number): void };

class Counter implements CounterSeries {
  value = 0;
  add(value: number): void {
    this.value += value;
  }
}

class Histogram implements HistogramSeries {
  readonly data: HistogramData;
  constructor(readonly bounds: readonly number[]) {
    this.data = { buckets: new Array(bounds.length + 1).fill(0), sum: 0, count: 0 };
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.data.buckets[i]!++;
    this.data.sum += value;
    this.data.count++;
  }
}

/** `name="value",…` for a series, escaped as the text format wants (backslash, quote, newline). */
export function labelSet(family: MetricFamily, values: readonly string[]): string {
  let out = "";
  for (let i = 0; i < family.labels.length; i++) {
    if (i > 0) out += ",";
    out += `${family.labels[i]}="${escapeLabel(values[i] ?? "")}"`;
  }
  return out;
}

function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    : value;
}

export class MetricsRegistry implements MetricsRecorder {
  readonly #counters = new Map<string, Counter>();
  readonly #histograms = new Map<string, Histogram>();

  add(family: MetricFamily, labels: string, value: number): void {
    this.counter(family, labels).add(value);
  }

  observe(family: MetricFamily, labels: string, value: number): void {
    this.histogram(family, labels).observe(value);
  }

  counter(family: MetricFamily, labels: string): Counter {
    const key = `${family.name}\u0000${labels}`;
    let series = this.#counters.get(key);
    if (series === undefined) {
      series = new Counter();
      this.#counters.set(key, series);
    }
    return series;
  }

  histogram(family: MetricFamily, labels: string): Histogram {
    const key = `${family.name}\u0000${labels}`;
    let series = this.#histograms.get(key);
    if (series === undefined) {
      series = new Histogram(family.buckets ?? []);
      this.#histograms.set(key, series);
    }
    return series;
  }

  snapshot(): MetricsSnapshot {
    const counters: Record<string, number> = {};
    for (const [key, c] of this.#counters) counters[key] = c.value;
    const histograms: Record<string, HistogramData> = {};
    for (const [key, h] of this.#histograms) histograms[key] = { ...h.data, buckets: [...h.data.buckets] };
    return { counters, histograms };
  }
}

/** The node's series: every plane's snapshot summed. */
export function mergeSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  const merged: MetricsSnapshot = { counters: {}, histograms: {} };
  for (const snapshot of snapshots) {
    for (const [key, value] of Object.entries(snapshot.counters))
      merged.counters[key] = (merged.counters[key] ?? 0) + value;
    for (const [key, h] of Object.entries(snapshot.histograms)) {
      const into = merged.histograms[key];
      if (into === undefined) merged.histograms[key] = { ...h, buckets: [...h.buckets] };
      else {
        h.buckets.forEach((n, i) => {
          into.buckets[i] = (into.buckets[i] ?? 0) + n;
        });
        into.sum += h.sum;
        into.count += h.count;
      }
    }
  }
  return merged;
}

/** A gauge's value for one series, computed at scrape time (node-level metrics). */
export type GaugeSample = { family: MetricFamily; labels: readonly string[]; value: number };

/** Kong's `le` label: the bound as a plain number (`25`, `0.5`), `+Inf` last. */
function le(bound: number): string {
  return String(bound);
}

/** `{labels}`, or nothing for a series without labels. */
function braces(labels: string): string {
  return labels === "" ? "" : `{${labels}}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/**
 * The Prometheus text exposition (format 0.0.4): each family once with HELP and TYPE, its series sorted,
 * histograms as cumulative `_bucket` lines then `_sum` and `_count`. Families without series are left out.
 */
export function renderMetrics(
  families: readonly MetricFamily[],
  gauges: readonly GaugeSample[],
  series: MetricsSnapshot,
): string {
  const lines: string[] = [];
  const byFamily = new Map<string, string[]>();
  for (const family of families) byFamily.set(family.name, []);
  for (const key of Object.keys(series.counters))
    byFamily.get(key.slice(0, key.indexOf("\u0000")))?.push(key);
  for (const key of Object.keys(series.histograms))
    byFamily.get(key.slice(0, key.indexOf("\u0000")))?.push(key);
  for (const family of families) {
    const samples = gauges.filter((g) => g.family === family);
    const keys = (byFamily.get(family.name) ?? []).sort();
    if (samples.length === 0 && keys.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of samples) {
      const labels = labelSet(family, sample.labels);
      lines.push(`${family.name}${braces(labels)} ${number(sample.value)}`);
    }
    for (const key of keys) {
      const labels = key.slice(key.indexOf("\u0000") + 1);
      if (family.type !== "histogram") {
        lines.push(`${family.name}${braces(labels)} ${number(series.counters[key]!)}`);
        continue;
      }
      const h = series.histograms[key]!;
      const bounds = family.buckets ?? [];
      const prefix = labels === "" ? "" : `${labels},`;
      let cumulative = 0;
      bounds.forEach((bound, i) => {
        cumulative += h.buckets[i] ?? 0;
        lines.push(`${family.name}_bucket{${prefix}le="${le(bound)}"} ${cumulative}`);
      });
      lines.push(`${family.name}_bucket{${prefix}le="+Inf"} ${h.count}`);
      lines.push(`${family.name}_sum${braces(labels)} ${number(h.sum)}`);
      lines.push(`${family.name}_count${braces(labels)} ${h.count}`);
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
