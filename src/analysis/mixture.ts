/**
 * The anytime-valid test behind the sequential judge (ANCHORS §3), on counts of "bad"
 * requests (errors, or requests slower than a latency boundary).
 *
 * Given that a bad request happened in an interval where the canary served a share q of
 * the traffic, it is the canary's with probability π(θ) = qθ / (qθ + 1 − q), θ being the
 * ratio of the canary's bad rate to stable's. Products over intervals of likelihood
 * ratios π(θ_alt)/π(θ_null) are test martingales under the null however q moves, so by
 * Ville's inequality their mixture crosses 1/α with probability at most α, however often
 * it is looked at. Everything is kept as logs, so memory never holds Infinity.
 *
 * The mixture's weights over the alternatives are fixed in the code, so they are chosen
 * before any data: any fixed weights summing to 1 give a test martingale.
 */

/** Alternatives of the failure test (H0: θ ≤ 1): the canary is worse than stable. */
export const WORSE_RATIOS = [1.5, 2, 3, 5, 10] as const;
/**
 * Prior weight of each alternative in WORSE_RATIOS (normalised below). Most of the mass is
 * on θ = 2–3, the regressions a release should catch fastest; θ = 10 also trips the
 * catastrophic guard, and a burst that looks like θ = 10 for one interval gets little say.
 */
const WORSE_PRIOR = [1, 2, 2, 1, 0.5] as const;
const priorTotal = WORSE_PRIOR.reduce((a, b) => a + b, 0);
export const WORSE_WEIGHTS: readonly number[] = WORSE_PRIOR.map((w) => w / priorTotal);
/** Alternatives of the mirror test (H0: θ ≥ 2): the canary is no worse than stable. */
export const NO_WORSE_RATIOS = [1, 0.75, 0.5] as const;
const WORSE_NULL = 1;
/**
 * The most one interval may add to any log likelihood ratio. Truncating a factor from
 * above keeps a supermartingale one (E[min(X, c)] ≤ E[X]); it caps what one burst the
 * discount under-predicted can do, so no single interval decides a release alone.
 */
export const INTERVAL_LOG_CAP = 2.5;

/**
 * The cap of a rollback test's interval discounted by `weight` (fixed before its counts):
 * INTERVAL_LOG_CAP·√weight. A discounted log likelihood ratio w·ℓ has a spread of about
 * √w times an iid interval's (Var(wℓ) = w²·φ·I with w = 1/φ), so this is the same number
 * of its standard deviations whatever the bursts. At high dispersion one burst can then
 * add only a small step and must recur over many intervals to roll back; a cap that is
 * itself predictable keeps E[min(c_t, X_t) | past] ≤ E[X_t | past] ≤ 1.
 */
export function intervalCap(weight: number): number {
  return INTERVAL_LOG_CAP * Math.sqrt(Math.min(1, Math.max(0, weight)));
}
const NO_WORSE_NULL = 2;

/** Log likelihood ratios of each alternative of both tests, summed over intervals. */
export interface RatioEvidence {
  worse: number[];
  noWorse: number[];
}

export function noEvidence(): RatioEvidence {
  return { worse: WORSE_RATIOS.map(() => 0), noWorse: NO_WORSE_RATIOS.map(() => 0) };
}

function badShare(q: number, theta: number): number {
  return (q * theta) / (q * theta + 1 - q);
}

function logRatio(
  canaryBad: number,
  stableBad: number,
  q: number,
  alternative: number,
  nullRatio: number,
): number {
  const pAlt = badShare(q, alternative);
  const pNull = badShare(q, nullRatio);
  return canaryBad * Math.log(pAlt / pNull) + stableBad * Math.log((1 - pAlt) / (1 - pNull));
}

/**
 * Folds one interval: canaryRequests/stableRequests set q, canaryBad/stableBad are the
 * bad requests of each side. An interval where either side served nothing carries no
 * information about θ and is skipped. `weight` (≤ 1, fixed before the interval's bad
 * counts were seen) discounts the interval's log likelihood ratios for bursts (dispersion.ts).
 */
export function addInterval(
  evidence: RatioEvidence,
  canaryRequests: number,
  stableRequests: number,
  canaryBad: number,
  stableBad: number,
  weight = 1,
): RatioEvidence {
  if (!(canaryRequests > 0 && stableRequests > 0) || canaryBad + stableBad === 0) return evidence;
  const q = canaryRequests / (canaryRequests + stableRequests);
  const cap = intervalCap(weight);
  return {
    worse: WORSE_RATIOS.map(
      (t, j) =>
        (evidence.worse[j] ?? 0) +
        Math.min(cap, weight * logRatio(canaryBad, stableBad, q, t, WORSE_NULL)),
    ),
    // The mirror test only permits early promotion; it keeps the fixed cap.
    noWorse: NO_WORSE_RATIOS.map(
      (t, j) =>
        (evidence.noWorse[j] ?? 0) +
        Math.min(INTERVAL_LOG_CAP, weight * logRatio(canaryBad, stableBad, q, t, NO_WORSE_NULL)),
    ),
  };
}

export function addEvidence(a: RatioEvidence, b: RatioEvidence): RatioEvidence {
  return {
    worse: a.worse.map((x, j) => x + (b.worse[j] ?? 0)),
    noWorse: a.noWorse.map((x, j) => x + (b.noWorse[j] ?? 0)),
  };
}

/** log(mean_j exp(l_j)), computed without overflow. */
export function logMeanExp(logs: readonly number[]): number {
  if (logs.length === 0) return 0;
  const top = Math.max(...logs);
  const sum = logs.reduce((s, l) => s + Math.exp(l - top), 0);
  return top + Math.log(sum / logs.length);
}

/** log(Σ_j weights_j·exp(l_j)) for weights summing to 1, computed without overflow. */
export function logWeightedMeanExp(logs: readonly number[], weights: readonly number[]): number {
  if (logs.length === 0) return 0;
  const top = Math.max(...logs);
  const sum = logs.reduce((s, l, j) => s + (weights[j] ?? 0) * Math.exp(l - top), 0);
  return top + Math.log(sum);
}

/** Log of the mixture e-value that the canary is worse than stable (weights WORSE_WEIGHTS). */
export function logEvidenceWorse(evidence: RatioEvidence): number {
  return logWeightedMeanExp(evidence.worse, WORSE_WEIGHTS);
}

/** Log of the mixture e-value that the canary is no worse than stable (θ < 2). */
export function logEvidenceNoWorse(evidence: RatioEvidence): number {
  return logMeanExp(evidence.noWorse);
}

/** Reads evidence back from memory; undefined when the stored shape is not usable. */
export function readEvidence(x: unknown): RatioEvidence | undefined {
  if (typeof x !== "object" || x === null) return undefined;
  const e = x as Record<string, unknown>;
  const finiteArray = (a: unknown, length: number): a is number[] =>
    Array.isArray(a) &&
    a.length === length &&
    a.every((v) => typeof v === "number" && Number.isFinite(v));
  if (!finiteArray(e.worse, WORSE_RATIOS.length) || !finiteArray(e.noWorse, NO_WORSE_RATIOS.length))
    return undefined;
  return { worse: [...e.worse], noWorse: [...e.noWorse] };
}
