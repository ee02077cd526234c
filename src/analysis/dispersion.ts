/**
 * Online estimate of extra-binomial variation (overdispersion) of one stream of "bad"
 * requests (errors, or requests slower than a latency boundary), and the discount it
 * puts on each interval's evidence (ANCHORS §3b).
 *
 * Given m bad requests in an interval where the canary's share of bad requests is q, the
 * canary's count has variance m·q(1−q)·φ with φ = 1 + (m − 1)·ρ, ρ being an
 * intra-interval correlation (bursts on one pod, one connection pool...). Raising the
 * interval's likelihood ratio to a power w ≤ 1/φ keeps the test an (approximate)
 * e-process. The weight must be predictable: it is computed before the interval's bad
 * counts are used, from ρ̂ over past intervals and m̂, the bad requests the interval's
 * request counts predict at the past rate. Only afterwards does the interval update ρ̂.
 *
 * ρ̂ is Williams' moment estimator on Pearson residuals of the per-interval 2×2 tables,
 * Σ(r² − 1) / Σ(m − 1), taken around the Mantel–Haenszel ratio of the same intervals (so
 * a real regression is not mistaken for bursts, and a shared incident, which moves both
 * versions alike, adds nothing), and shrunk toward a conservative prior worth a few
 * intervals so the first intervals are not trusted blindly.
 */

/** Prior intra-interval correlation: what the estimate starts from. */
export const PRIOR_RHO = 0.03;
/** How many intervals' worth of data the prior counts for. */
const PRIOR_INTERVALS = 3;
/** Prior bad rate used to predict m̂ before any interval is seen (1% over 100 requests). */
const PRIOR_BAD = 1;
const PRIOR_REQUESTS = 100;
/** A discount this close to 1 is not worth showing. */
export const SHOWN_BELOW = 0.95;

export interface DispersionState {
  /** Σ (r² − 1) and Σ (m − 1) over intervals with at least 2 bad requests. */
  residuals: number;
  excess: number;
  /** Mantel–Haenszel sums: Σ bC·nS/N and Σ bS·nC/N. */
  mhCanary: number;
  mhStable: number;
  /** Bad and all requests of both versions so far, to predict m̂. */
  bad: number;
  requests: number;
}

export function freshDispersion(): DispersionState {
  return { residuals: 0, excess: 0, mhCanary: 0, mhStable: 0, bad: 0, requests: 0 };
}

const canaryShare = (q: number, theta: number): number => (q * theta) / (q * theta + 1 - q);

/** The ratio of the canary's bad rate to stable's so far, in the same intervals (Mantel–Haenszel). */
export function ratioEstimate(state: DispersionState): number {
  const theta = (state.mhCanary + 0.5) / (state.mhStable + 0.5);
  return Math.min(100, Math.max(0.01, theta));
}

/** ρ̂ and the inflation φ the next interval gets, from its request counts and the past only. */
export function predictedInflation(
  state: DispersionState,
  canaryRequests: number,
  stableRequests: number,
): { rho: number; phi: number } {
  const rate = (state.bad + PRIOR_BAD) / (state.requests + PRIOR_REQUESTS);
  const predictedBad = (canaryRequests + stableRequests) * rate;
  const scale = Math.max(1, predictedBad - 1);
  const rho = Math.max(
    0,
    (state.residuals + PRIOR_RHO * PRIOR_INTERVALS * scale) /
      (state.excess + PRIOR_INTERVALS * scale),
  );
  return { rho, phi: 1 + Math.max(0, predictedBad - 1) * rho };
}

/** The weight w = 1/φ of the next interval's evidence, in (0, 1]. */
export function discountFor(
  state: DispersionState,
  canaryRequests: number,
  stableRequests: number,
): number {
  return 1 / predictedInflation(state, canaryRequests, stableRequests).phi;
}

/** Folds one interval's counts into the estimate (after its evidence was weighed). */
export function updateDispersion(
  state: DispersionState,
  canaryRequests: number,
  stableRequests: number,
  canaryBad: number,
  stableBad: number,
): DispersionState {
  const total = canaryRequests + stableRequests;
  if (!(canaryRequests > 0 && stableRequests > 0)) return state;
  const next = {
    ...state,
    mhCanary: state.mhCanary + (canaryBad * stableRequests) / total,
    mhStable: state.mhStable + (stableBad * canaryRequests) / total,
    bad: state.bad + canaryBad + stableBad,
    requests: state.requests + total,
  };
  const m = canaryBad + stableBad;
  if (m < 2) return next;
  const q = canaryShare(canaryRequests / total, ratioEstimate(next));
  const r2 = (canaryBad - m * q) ** 2 / (m * q * (1 - q));
  return { ...next, residuals: state.residuals + r2 - 1, excess: state.excess + m - 1 };
}

const isFinite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** Reads the state back from memory; a fresh estimate when absent or unusable. */
export function readDispersion(x: unknown): DispersionState {
  if (typeof x !== "object" || x === null) return freshDispersion();
  const d = x as Record<string, unknown>;
  const keys = ["residuals", "excess", "mhCanary", "mhStable", "bad", "requests"] as const;
  if (!keys.every((k) => isFinite(d[k]))) return freshDispersion();
  return {
    residuals: d.residuals as number,
    excess: d.excess as number,
    mhCanary: d.mhCanary as number,
    mhStable: d.mhStable as number,
    bad: d.bad as number,
    requests: d.requests as number,
  };
}

/** "errors are bursty: evidence counted ×0.12", or undefined when the discount is negligible. */
export function describeDiscount(what: string, weight: number): string | undefined {
  if (!(weight < SHOWN_BELOW)) return undefined;
  return `${what} bursty: evidence counted ×${Number(weight.toPrecision(2))}`;
}
