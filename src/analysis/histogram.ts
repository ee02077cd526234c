/**
 * Pure helpers over cumulative latency histograms (Prometheus `_bucket` series):
 * each bucket counts the requests that took at most `le` milliseconds.
 *
 * The `+Inf` bucket is never stored (JSON cannot hold Infinity): the histogram's total
 * is passed separately, and is the request counter when no `+Inf` bucket was read.
 */

export interface Bucket {
  le: number;
  count: number;
}

/** Finite buckets sorted by bound; a `+Inf` bucket (or any non-finite bound) is dropped. */
export function finiteBuckets(buckets: readonly Bucket[]): Bucket[] {
  return buckets.filter((b) => Number.isFinite(b.le)).sort((a, b) => a.le - b.le);
}

/** The count of the `+Inf` bucket when one was read, otherwise `fallback`. */
export function histogramTotal(buckets: readonly Bucket[], fallback: number): number {
  const inf = buckets.find((b) => b.le === Infinity);
  return inf ? inf.count : fallback;
}

/**
 * Per-bucket increase between two cumulative readings of the same histogram.
 * A bucket that went down means the counters were reset (a restarted pod, a new series),
 * so the new reading is the whole increase, as Prometheus' increase() assumes.
 */
export function bucketDeltas(
  current: readonly Bucket[],
  previous: readonly Bucket[] | undefined,
): Bucket[] {
  const now = finiteBuckets(current);
  if (!previous) return now;
  const before = new Map(finiteBuckets(previous).map((b) => [b.le, b.count]));
  const reset = now.some((b) => {
    const old = before.get(b.le);
    return old === undefined || b.count < old;
  });
  if (reset) return now;
  return now.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) }));
}

/**
 * The q-quantile (0..1) of a cumulative histogram, as PromQL's histogram_quantile does it:
 * find the bucket holding rank q·total and interpolate linearly inside it (the first
 * bucket starts at 0). A rank above the highest finite bound answers that bound.
 * Undefined when the histogram is empty.
 */
export function histogramQuantile(
  q: number,
  buckets: readonly Bucket[],
  total: number,
): number | undefined {
  const sorted = finiteBuckets(buckets);
  if (!(total > 0) || sorted.length === 0 || !(q >= 0 && q <= 1)) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let countBelow = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le <= 0) return bucket.le;
      const inBucket = bucket.count - countBelow;
      if (inBucket <= 0) return bucket.le;
      return lowerBound + (bucket.le - lowerBound) * ((rank - countBelow) / inBucket);
    }
    lowerBound = bucket.le;
    countBelow = bucket.count;
  }
  return lowerBound;
}

/** Requests slower than `boundary` ms (which must be one of the bucket bounds); undefined if it is not. */
export function countAbove(
  buckets: readonly Bucket[],
  boundary: number,
  total: number,
): number | undefined {
  const bucket = buckets.find((b) => b.le === boundary);
  if (!bucket) return undefined;
  return Math.min(total, Math.max(0, total - bucket.count));
}

/**
 * The smallest bucket bound with at most `maxFractionAbove` of the requests above it:
 * the bucket boundary at (or just past) the matching quantile. Undefined when empty.
 */
export function boundaryWithFractionAbove(
  buckets: readonly Bucket[],
  total: number,
  maxFractionAbove: number,
): number | undefined {
  if (!(total > 0)) return undefined;
  for (const bucket of finiteBuckets(buckets)) {
    if ((total - bucket.count) / total <= maxFractionAbove) return bucket.le;
  }
  return undefined;
}

/** Adds two histograms bucket by bucket (bounds present in either). */
export function addBuckets(a: readonly Bucket[], b: readonly Bucket[]): Bucket[] {
  const sums = new Map<number, number>();
  for (const bucket of [...finiteBuckets(a), ...finiteBuckets(b)]) {
    sums.set(bucket.le, (sums.get(bucket.le) ?? 0) + bucket.count);
  }
  return [...sums.entries()].map(([le, count]) => ({ le, count })).sort((x, y) => x.le - y.le);
}
