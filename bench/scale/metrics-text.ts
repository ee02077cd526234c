/**
 * The bench reads the controller the way Prometheus does: its /metrics text. A scrape is
 * a list of samples; the helpers below pick counters, gauges and histograms out of it.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type Scrape = Sample[];

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (comments skipped, timestamps ignored). */
export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    const [, name = "", labelText = "", raw = ""] = match;
    const labels: Record<string, string> = {};
    for (const [, key = "", value = ""] of labelText.matchAll(LABEL))
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    samples.push({ name, labels, value });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `match`. */
export function total(scrape: Scrape, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of scrape)
    if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
      sum += s.value;
  return sum;
}

/** A counter's sum per value of one label, e.g. requests by verb. */
export function byLabel(scrape: Scrape, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of scrape)
    if (s.name === name) {
      const key = s.labels[label] ?? "";
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
  return out;
}

/** The change of a per-label counter between two scrapes. */
export function delta(
  before: Map<string, number>,
  after: Map<string, number>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

export interface HistogramState {
  count: number;
  /** Upper bound → cumulative count. */
  buckets: Map<number, number>;
}

export function histogram(scrape: Scrape, name: string): HistogramState {
  const buckets = new Map<number, number>();
  for (const s of scrape) {
    if (s.name !== `${name}_bucket`) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return { count: total(scrape, `${name}_count`), buckets };
}

/**
 * A quantile of the observations made between two histogram states, interpolated within
 * its bucket as PromQL's histogram_quantile does; undefined when nothing was observed.
 */
export function quantile(h0: HistogramState, h1: HistogramState, q: number): number | undefined {
  const observed = h1.count - h0.count;
  if (observed <= 0) return undefined;
  const bounds = [...h1.buckets.keys()].sort((a, b) => a - b);
  const rank = q * observed;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const cumulative = (h1.buckets.get(le) ?? 0) - (h0.buckets.get(le) ?? 0);
    if (cumulative >= rank) {
      if (le === Infinity) return lower;
      const inBucket = cumulative - below;
      return lower + (le - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket);
    }
    lower = le;
    below = cumulative;
  }
  return lower;
}

/** Least-squares slope and intercept of y over x (the marginal cost per Rollout). */
export function linearFit(points: readonly [number, number][]): {
  slope: number;
  intercept: number;
} {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
