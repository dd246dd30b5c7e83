// A strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on anything a
// Prometheus server would refuse or misread — a malformed line, a bad name or label, an unescaped value, a
// sample before its TYPE, a family split in two, a repeated series, a histogram whose buckets are not
// ascending and cumulative or whose +Inf bucket differs from its count.

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; type: string; help: string | null; samples: Sample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function fail(line: number, message: string): never {
  throw new Error(`metrics line ${line}: ${message}`);
}

function parseValue(text: string, line: number): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(line, `bad value '${text}'`);
  return Number(text);
}

/** `{a="x",b="y"}` starting at `start`; returns the labels and where they end. */
function parseLabels(
  text: string,
  start: number,
  line: number,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (text[i] !== "}") {
    const eq = text.indexOf("=", i);
    if (eq < 0) fail(line, "label without '='");
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) fail(line, `bad label name '${name}'`);
    if (name in labels) fail(line, `label '${name}' given twice`);
    if (text[eq + 1] !== '"') fail(line, `label '${name}' value is not quoted`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) fail(line, "unterminated label value");
      if (c === "\n") fail(line, "raw newline in a label value");
      if (c === '"') break;
      if (c === "\\") {
        const next = text[j + 1];
        if (next === "\\") value += "\\";
        else if (next === '"') value += '"';
        else if (next === "n") value += "\n";
        else fail(line, `bad escape '\\${next}'`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail(line, "expected ',' or '}' after a label");
  }
  return { labels, end: i + 1 };
}

/** The family a sample name belongs to (histogram samples carry suffixes). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ["_bucket", "_sum", "_count"])
    if (name.endsWith(suffix)) {
      const base = families.get(name.slice(0, -suffix.length));
      if (base && (base.type === "histogram" || (base.type === "summary" && suffix !== "_bucket")))
        return base;
    }
  return undefined;
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) throw new Error("metrics text must end with a newline");
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: Family | null = null;
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw === "") fail(line, "empty line");
    if (raw.startsWith("#")) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!match) return;
      const [, kind, name, rest] = match as unknown as [string, string, string, string];
      if (!NAME.test(name)) fail(line, `bad metric name '${name}'`);
      if (closed.has(name)) fail(line, `family '${name}' continues after another one`);
      let family = families.get(name);
      if (family === undefined) {
        family = { name, type: "untyped", help: null, samples: [] };
        families.set(name, family);
      }
      if (current !== null && current !== family) closed.add(current.name);
      current = family;
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) fail(line, `unknown type '${rest}'`);
        if (family.samples.length > 0) fail(line, `TYPE of '${name}' after its samples`);
        family.type = rest;
      } else {
        if (family.help !== null) fail(line, `HELP of '${name}' given twice`);
        family.help = rest;
      }
      return;
    }
    const nameEnd = raw.search(/[{ ]/);
    if (nameEnd <= 0) fail(line, "a sample needs a name and a value");
    const name = raw.slice(0, nameEnd);
    if (!NAME.test(name)) fail(line, `bad metric name '${name}'`);
    let labels: Record<string, string> = {};
    let rest = nameEnd;
    if (raw[nameEnd] === "{") ({ labels, end: rest } = parseLabels(raw, nameEnd, line));
    if (raw[rest] !== " ") fail(line, "expected a space before the value");
    const parts = raw.slice(rest + 1).split(" ");
    if (parts.length > 2) fail(line, "trailing text after the value");
    const value = parseValue(parts[0]!, line);
    let family = familyOf(name, families);
    if (family === undefined) {
      family = { name, type: "untyped", help: null, samples: [] };
      families.set(name, family);
    }
    if (closed.has(family.name)) fail(line, `family '${family.name}' continues after another one`);
    if (current !== null && current !== family) closed.add(current.name);
    current = family;
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) fail(line, `series ${name} ${JSON.stringify(labels)} given twice`);
    seen.add(key);
    if (family.type === "counter" && !(value >= 0)) fail(line, `counter ${name} is negative`);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), sample.value]);
    } else if (sample.name === `${family.name}_sum`) entry.sum = sample.value;
    else if (sample.name === `${family.name}_count`) entry.count = sample.value;
    else throw new Error(`${family.name}: unexpected sample ${sample.name}`);
  }
  for (const [key, entry] of series) {
    const bounds = entry.buckets.map(([b]) => b);
    if (bounds.some((b, i) => i > 0 && !(b > bounds[i - 1]!)))
      throw new Error(`${family.name} ${key}: le not ascending`);
    if (entry.buckets.some(([, v], i) => i > 0 && v < entry.buckets[i - 1]![1]))
      throw new Error(`${family.name} ${key}: buckets not cumulative`);
    const inf = entry.buckets.at(-1);
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY) throw new Error(`${family.name} ${key}: no +Inf bucket`);
    if (entry.count === undefined || entry.sum === undefined)
      throw new Error(`${family.name} ${key}: no _sum or _count`);
    if (inf[1] !== entry.count)
      throw new Error(`${family.name} ${key}: +Inf bucket ${inf[1]} ≠ count ${entry.count}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels` (throws when not exactly one). */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const matching = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matching.length !== 1)
    throw new Error(`${matching.length} samples of ${name} with ${JSON.stringify(labels)}`);
  return matching[0]!.value;
}
