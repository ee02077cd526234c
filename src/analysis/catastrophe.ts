import { intervalNull, logRatio, type Tally } from "./absolute-guard.ts";
import { formatPercent, type IntervalCounts } from "./interval.ts";
import { logMeanExp } from "./mixture.ts";

/**
 * The catastrophic guard: a canary failing a large share of its requests in one interval
 * rolls back at once, without waiting for evidence to pile up. It still spends its own
 * share of α: interval t's e-value (likelihood ratio of the catastrophic rate against the
 * larger of the healthy rate and stable's rate in that interval, discounted for bursts)
 * must reach 1/(α_cat·γ_t) with Σγ_t = 1, so by Markov's inequality and a union bound a
 * healthy canary trips it with probability at most α_cat over the whole release.
 */

export interface CatastropheInput {
  canary: IntervalCounts;
  stable: IntervalCounts;
  /** Percent (spec.catastrophicErrorRate). */
  catastrophicErrorRate: number;
  minRequests: number;
  /** The healthy error rate the canary is held to (1 − min/100, or 1%). */
  healthyRate: number;
  /** κ̂ of the error stream, fixed before this interval (dispersion.ts). */
  kappa: number;
  /** 1-based index of this interval in the release. */
  index: number;
  /** The share of α this guard may spend. */
  alpha: number;
}

/** γ_t = 1/(t(t+1)): sums to 1 over t = 1, 2, ... */
const spending = (t: number): number => 1 / (t * (t + 1));

/** Why the canary is rolled back at once, or undefined. */
export function catastrophe(input: CatastropheInput): string | undefined {
  const { canary, stable } = input;
  const needed = Math.max(20, input.minRequests);
  if (canary.requests < needed) return undefined;
  const canaryRate = canary.errors / canary.requests;
  const limit = input.catastrophicErrorRate / 100;
  if (canaryRate < limit) return undefined;
  const stableTally: Tally = { requests: stable.requests, bad: stable.errors };
  // Stable just as catastrophic in the same interval: a shared outage, not the canary's fault.
  if (stable.requests >= needed && stable.errors / stable.requests >= limit) return undefined;
  const p0 = intervalNull(
    input.healthyRate,
    stable.requests > 0 ? stableTally : undefined,
    1 + input.kappa * stable.errors,
  );
  if (p0 >= limit) return undefined;
  const weight = 1 / (1 + input.kappa * canary.requests * p0);
  const alternatives = [limit, (1 + limit) / 2].map((p) => p / p0);
  const logE = logMeanExp(
    alternatives.map((k) => weight * logRatio(p0, canary.requests, canary.errors, k)),
  );
  const needs = -Math.log(input.alpha * spending(Math.max(1, input.index)));
  if (logE < needs) return undefined;
  const stableRate =
    stable.requests > 0 ? formatPercent((100 * stable.errors) / stable.requests) : "no requests";
  return (
    `the canary failed ${formatPercent(100 * canaryRate)} of ${canary.requests} requests in the last interval, ` +
    `at or above the catastrophic limit of ${input.catastrophicErrorRate}% (stable ${stableRate})`
  );
}
