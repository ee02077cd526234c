import type { VersionCounters } from "../analysis/judge.ts";
import { binomial, poisson, type Random } from "./random.ts";

/**
 * How one version of a service behaves: its error rate and latency distribution.
 * Shared by the in-memory simulator and the mesh traffic simulator of the e2e tests.
 */
export interface VersionBehaviour {
  /** Probability that a request fails (0..1). */
  errorRate: number;
  /** Median latency in milliseconds; latencies are log-normal. */
  latencyP50Ms: number;
  /** 99th percentile latency in milliseconds. */
  latencyP99Ms: number;
}

/** Histogram bucket bounds in ms, as Istio's default istio_request_duration_milliseconds buckets. */
export const LATENCY_BUCKETS_MS = [
  1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
] as const;

const Z99 = 2.3263478740408408;

/** Sample one latency (ms) from the version's log-normal distribution. */
export function sampleLatencyMs(random: Random, behaviour: VersionBehaviour): number {
  const mu = Math.log(behaviour.latencyP50Ms);
  const sigma = Math.max(1e-6, (Math.log(behaviour.latencyP99Ms) - mu) / Z99);
  const u1 = Math.max(random(), Number.EPSILON);
  const u2 = random();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.exp(mu + sigma * z);
}

/** Probability that one request takes at most `le` ms. */
function latencyCdf(behaviour: VersionBehaviour, le: number): number {
  const mu = Math.log(behaviour.latencyP50Ms);
  const sigma = Math.max(1e-6, (Math.log(behaviour.latencyP99Ms) - mu) / Z99);
  return normalCdf((Math.log(le) - mu) / sigma);
}

function normalCdf(x: number): number {
  // Abramowitz-Stegun 7.1.26 on erf; plenty for a traffic model.
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

export function emptyCounters(): VersionCounters {
  return {
    requests: 0,
    errors: 0,
    latencyBuckets: LATENCY_BUCKETS_MS.map((le) => ({ le, count: 0 })),
  };
}

/**
 * Adds `requests` requests of a version to cumulative counters, drawing errors and
 * latencies in aggregate (binomially per bucket) so large volumes stay cheap.
 */
export function addRequests(
  random: Random,
  counters: VersionCounters,
  behaviour: VersionBehaviour,
  requests: number,
): VersionCounters {
  const errors = binomial(random, requests, behaviour.errorRate);
  // Draw how many land at or below each bucket bound, walking up the CDF.
  let remaining = requests;
  let below = 0;
  let previousCdf = 0;
  const added: number[] = [];
  for (const le of LATENCY_BUCKETS_MS) {
    const cdf = latencyCdf(behaviour, le);
    const conditional =
      previousCdf >= 1 ? 1 : Math.min(1, Math.max(0, (cdf - previousCdf) / (1 - previousCdf)));
    const inBucket = binomial(random, remaining, conditional);
    remaining -= inBucket;
    below += inBucket;
    added.push(below);
    previousCdf = cdf;
  }
  return {
    requests: counters.requests + requests,
    errors: counters.errors + errors,
    latencyBuckets: counters.latencyBuckets.map((b, i) => ({
      le: b.le,
      count: b.count + (added[i] ?? below),
    })),
  };
}

/** Splits `total` requests between canary and stable by the canary weight (percent). */
export function splitByWeight(
  random: Random,
  total: number,
  canaryWeight: number,
): { canary: number; stable: number } {
  const canary = binomial(random, total, canaryWeight / 100);
  return { canary, stable: total - canary };
}

/** Requests arriving in `seconds` at `rps` on average. */
export function arrivals(random: Random, rps: number, seconds: number): number {
  return poisson(random, rps * seconds);
}
