import type { AnalysisSpec } from "../api/rollout.ts";
import type { JudgeMemory, Judgement, MetricsSample, VersionCounters } from "./judge.ts";
import {
  bucketDeltas,
  finiteBuckets,
  histogramQuantile,
  histogramTotal,
  type Bucket,
} from "./histogram.ts";

/**
 * What happened to one version between two readings: the increase of its raw counters.
 * Judges never use rate(): they take deltas themselves, so they depend on no window.
 */
export interface IntervalCounts {
  requests: number;
  errors: number;
  /** Increase of each finite latency bucket. */
  buckets: Bucket[];
  /** Increase of the histogram's total (its `+Inf` bucket, or the request counter). */
  observed: number;
}

/** Counters as kept in judge memory: plain finite numbers, so they survive JSON. */
export interface StoredCounters {
  requests: number;
  errors: number;
  /** [le, count] pairs of the finite buckets. */
  buckets: [number, number][];
  observed: number;
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;

/** Why a reading of one version cannot be used, or undefined when it can. */
export function countersProblem(
  side: "canary" | "stable",
  counters: VersionCounters | undefined,
): string | undefined {
  if (!counters) return `no reading for the ${side}`;
  if (!isCount(counters.requests) || !isCount(counters.errors)) {
    return `the ${side}'s request or error counter is not a number`;
  }
  if (counters.latencyBuckets.some((b) => Number.isNaN(b.le) || !isCount(b.count))) {
    return `the ${side}'s latency histogram holds a value that is not a number`;
  }
  return undefined;
}

export function storeCounters(counters: VersionCounters): StoredCounters {
  return {
    requests: counters.requests,
    errors: counters.errors,
    buckets: finiteBuckets(counters.latencyBuckets).map((b) => [b.le, b.count]),
    observed: histogramTotal(counters.latencyBuckets, counters.requests),
  };
}

/** Reads counters back from memory; undefined when the stored shape is not usable. */
export function readStoredCounters(x: unknown): StoredCounters | undefined {
  if (typeof x !== "object" || x === null) return undefined;
  const c = x as Record<string, unknown>;
  if (
    !isCount(c.requests) ||
    !isCount(c.errors) ||
    !isCount(c.observed) ||
    !Array.isArray(c.buckets)
  )
    return undefined;
  const buckets: [number, number][] = [];
  for (const pair of c.buckets as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    const [le, count] = pair as unknown[];
    if (typeof le !== "number" || !Number.isFinite(le) || !isCount(count)) return undefined;
    buckets.push([le, count]);
  }
  return { requests: c.requests, errors: c.errors, buckets, observed: c.observed };
}

const toBuckets = (pairs: readonly [number, number][]): Bucket[] =>
  pairs.map(([le, count]) => ({ le, count }));

/** Interval counts in the memory shape (for judges that keep a window of intervals). */
export function storeIntervalCounts(counts: IntervalCounts): StoredCounters {
  return { ...counts, buckets: counts.buckets.map((b) => [b.le, b.count]) };
}

/**
 * The increase since the previous reading. A counter that went down was reset (a
 * restarted pod, a new series), so its new value is the whole increase.
 */
export function intervalCounts(
  current: StoredCounters,
  previous: StoredCounters | undefined,
): IntervalCounts {
  const delta = (now: number, before: number | undefined): number =>
    before === undefined || now < before ? now : now - before;
  const requests = delta(current.requests, previous?.requests);
  const errors = Math.min(requests, delta(current.errors, previous?.errors));
  return {
    requests,
    errors,
    buckets: bucketDeltas(
      toBuckets(current.buckets),
      previous ? toBuckets(previous.buckets) : undefined,
    ),
    observed: delta(current.observed, previous?.observed),
  };
}

/** Success rate in percent over the interval; undefined without requests. */
export function successPercent(counts: IntervalCounts): number | undefined {
  return counts.requests > 0
    ? (100 * (counts.requests - counts.errors)) / counts.requests
    : undefined;
}

/** P99 latency in ms over the interval, interpolated like histogram_quantile. */
export function p99Ms(counts: IntervalCounts): number | undefined {
  return histogramQuantile(0.99, counts.buckets, counts.observed);
}

/** Adds interval counts (for windows spanning several intervals). */
export function sumCounts(list: readonly IntervalCounts[]): IntervalCounts {
  const buckets = new Map<number, number>();
  for (const counts of list)
    for (const b of counts.buckets) buckets.set(b.le, (buckets.get(b.le) ?? 0) + b.count);
  return {
    requests: list.reduce((s, c) => s + c.requests, 0),
    errors: list.reduce((s, c) => s + c.errors, 0),
    buckets: [...buckets.entries()]
      .map(([le, count]) => ({ le, count }))
      .sort((a, b) => a.le - b.le),
    observed: list.reduce((s, c) => s + c.observed, 0),
  };
}

/**
 * The absolute guard: a canary failing this badly rolls back at once, whatever the
 * judge, unless stable fails as badly (a shared outage is not the canary's fault).
 */
export function catastrophe(
  canary: IntervalCounts,
  stable: IntervalCounts,
  catastrophicErrorRate: number,
  minRequests: number,
): string | undefined {
  const needed = Math.max(20, minRequests);
  if (canary.requests < needed) return undefined;
  const canaryRate = (100 * canary.errors) / canary.requests;
  if (canaryRate < catastrophicErrorRate) return undefined;
  if (stable.requests >= needed && (100 * stable.errors) / stable.requests >= catastrophicErrorRate)
    return undefined;
  return (
    `the canary failed ${formatPercent(canaryRate)} of ${canary.requests} requests in the last interval, ` +
    `at or above the catastrophic limit of ${catastrophicErrorRate}%`
  );
}

/** Whether both versions fail at a catastrophic rate: a shared outage, so analysis holds. */
export function sharedOutage(
  canary: IntervalCounts,
  stable: IntervalCounts,
  catastrophicErrorRate: number,
): boolean {
  const rate = (c: IntervalCounts) => (c.requests > 0 ? (100 * c.errors) / c.requests : 0);
  return (
    canary.requests > 0 &&
    stable.requests > 0 &&
    rate(canary) >= catastrophicErrorRate &&
    rate(stable) >= catastrophicErrorRate
  );
}

export function formatPercent(x: number): string {
  return `${x >= 99.95 && x < 100 ? x.toFixed(2) : x.toFixed(1)}%`;
}

export function formatMs(x: number): string {
  return `${x >= 100 ? Math.round(x) : Number(x.toPrecision(3))} ms`;
}

/** The evidence as people read it: 3 significant digits, or "over 10^N" when huge. */
export function formatEvidence(logEvidence: number): string {
  if (logEvidence > Math.log(1e6)) return `over 10^${Math.floor(logEvidence / Math.LN10)}`;
  return String(Number(Math.exp(logEvidence).toPrecision(3)));
}

/**
 * Both versions' counters from a reading, stored for the judge's memory; or, for a reading
 * that cannot be judged (no reading, missing or malformed counters), the verdict:
 * inconclusive for every metric, memory unchanged.
 */
export function usableReading(
  spec: AnalysisSpec,
  memory: JudgeMemory | undefined,
  sample: MetricsSample,
):
  | { ok: true; last: { canary: StoredCounters; stable: StoredCounters } }
  | { ok: false; judgement: Judgement } {
  const problem =
    sample.error ??
    countersProblem("canary", sample.canary) ??
    countersProblem("stable", sample.stable);
  if (problem === undefined && sample.canary && sample.stable) {
    return {
      ok: true,
      last: { canary: storeCounters(sample.canary), stable: storeCounters(sample.stable) },
    };
  }
  const reason = `no reading: ${problem ?? "no counters"}`;
  return {
    ok: false,
    judgement: {
      verdict: "Inconclusive",
      message: `Analysis holds: ${reason}.`,
      metrics: spec.metrics.map((m) => ({
        name: m.name,
        verdict: "Inconclusive",
        message: reason,
      })),
      conclusive: false,
      memory: memory ?? {},
    },
  };
}
