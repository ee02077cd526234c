/**
 * Online estimate of extra-binomial variation (overdispersion) of one stream of "bad"
 * requests (errors, or requests slower than a latency boundary), and the discount it
 * puts on each interval's evidence (ANCHORS §3b).
 *
 * Each version's bad count in an interval is modelled as Poisson around a rate that
 * wanders from interval to interval (bursts on one pod, one connection pool...):
 * variance λ(1 + κλ), κ being the squared coefficient of variation of the rate. Given
 * the interval's m bad requests, the canary's count then has variance m·q(1−q)·φ with
 * φ ≤ 1 + κ·h, h = 2·λc·λs/(λc + λs) (exact when the versions carry equal counts, an
 * over-estimate otherwise, which only makes the discount safer). Raising the interval's
 * likelihood ratio to the power w = 1/φ keeps the test an (approximate) e-process.
 *
 * The weight must be predictable: it is computed before the interval's bad counts are
 * used, from κ̂ over past intervals and λ̂c, λ̂s, the bad requests its request counts
 * predict at each version's past rate. Only afterwards does the interval update κ̂.
 *
 * κ̂ is a moment estimator on Pearson residuals of the per-interval 2×2 tables
 * (Williams 1982): Σ(r² − 1) / Σh, residuals taken around the Mantel–Haenszel ratio of
 * the same intervals (so a real regression is not mistaken for bursts, and a shared
 * incident, which moves both versions alike, adds nothing), shrunk toward a
 * conservative prior worth a few intervals so the first intervals are not trusted blindly.
 */

/**
 * Prior κ: a rate wandering by ±100% from interval to interval. Conservative on purpose:
 * the first intervals come before the estimate can learn, and bursts the discount
 * under-predicts there are what roll healthy canaries back (bench:detect, CV 1).
 */
export const PRIOR_KAPPA = 1;
/** How many intervals' worth of data the prior counts for. */
const PRIOR_INTERVALS = 2;
/** Prior bad rate before any interval is seen (1% over 100 requests). */
const PRIOR_BAD = 1;
const PRIOR_REQUESTS = 100;
/** A discount this close to 1 is not worth showing. */
export const SHOWN_BELOW = 0.95;

export interface DispersionState {
  /** Σ (r² − 1) and Σ h over intervals with at least 2 bad requests. */
  residuals: number;
  excess: number;
  /** How many intervals the sums hold. */
  counted: number;
  /** Mantel–Haenszel sums: Σ bC·nS/N and Σ bS·nC/N. */
  mhCanary: number;
  mhStable: number;
  /** Bad and all requests of each version so far, to predict λ. */
  canaryBad: number;
  canaryRequests: number;
  stableBad: number;
  stableRequests: number;
}

export function freshDispersion(): DispersionState {
  return {
    residuals: 0,
    excess: 0,
    counted: 0,
    mhCanary: 0,
    mhStable: 0,
    canaryBad: 0,
    canaryRequests: 0,
    stableBad: 0,
    stableRequests: 0,
  };
}

const canaryShare = (q: number, theta: number): number => (q * theta) / (q * theta + 1 - q);

/** The ratio of the canary's bad rate to stable's so far, in the same intervals (Mantel–Haenszel). */
export function ratioEstimate(state: DispersionState): number {
  const theta = (state.mhCanary + 0.5) / (state.mhStable + 0.5);
  return Math.min(100, Math.max(0.01, theta));
}

/** Past bad rates of each version (stable's when the canary has none yet), with a weak prior. */
function pastRates(state: DispersionState): { canary: number; stable: number } {
  const stable = (state.stableBad + PRIOR_BAD) / (state.stableRequests + PRIOR_REQUESTS);
  const canary =
    (state.canaryBad + stable * PRIOR_REQUESTS) / (state.canaryRequests + PRIOR_REQUESTS);
  return { canary, stable };
}

/**
 * (φ − 1)/κ for expected counts c (canary) and s (stable): φ = ab(c+s)/(ca+sb) with
 * a = 1 + κc, b = 1 + κs, the inflation of the canary's share of m given both versions'
 * variances λ(1 + κλ). Its limit at κ → 0 is 2cs/(c+s).
 */
function spread(kappa: number, c: number, s: number): number {
  if (!(c > 0 && s > 0)) return 0;
  if (kappa < 1e-9) return (2 * c * s) / (c + s);
  const a = 1 + kappa * c;
  const b = 1 + kappa * s;
  return ((a * b * (c + s)) / (c * a + s * b) - 1) / kappa;
}

/**
 * κ̂ from the sums and the prior. The prior counts as PRIOR_INTERVALS intervals of the
 * average spread seen so far (of `scale`, the next interval's, before any), so its
 * weight fades as K/(K + T) whatever the traffic.
 */
function kappaFrom(state: DispersionState, scale: number): number {
  const typical = state.counted > 0 ? state.excess / state.counted : scale;
  const prior = PRIOR_INTERVALS * Math.max(1, typical);
  return Math.max(0, (state.residuals + PRIOR_KAPPA * prior) / (state.excess + prior));
}

export interface Inflation {
  /** κ̂ from past intervals (and the prior). */
  kappa: number;
  /** φ of the canary-vs-stable split this interval; the weight is 1/φ. */
  phi: number;
}

/** κ̂ and the inflation φ the next interval gets, from its request counts and the past only. */
export function predictedInflation(
  state: DispersionState,
  canaryRequests: number,
  stableRequests: number,
): Inflation {
  const rates = pastRates(state);
  const c = canaryRequests * rates.canary;
  const s = stableRequests * rates.stable;
  const kappa = kappaFrom(state, spread(0, c, s));
  return { kappa, phi: 1 + kappa * spread(kappa, c, s) };
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
  const rates = pastRates(state);
  const c = canaryRequests * rates.canary;
  const s = stableRequests * rates.stable;
  // (φ − 1)/κ at the current estimate: one fixed-point step of the moment equation per interval.
  const h = spread(kappaFrom(state, spread(0, c, s)), c, s);
  const next = {
    ...state,
    mhCanary: state.mhCanary + (canaryBad * stableRequests) / total,
    mhStable: state.mhStable + (stableBad * canaryRequests) / total,
    canaryBad: state.canaryBad + canaryBad,
    canaryRequests: state.canaryRequests + canaryRequests,
    stableBad: state.stableBad + stableBad,
    stableRequests: state.stableRequests + stableRequests,
  };
  const m = canaryBad + stableBad;
  if (m < 2) return next;
  const q = canaryShare(canaryRequests / total, ratioEstimate(next));
  const r2 = (canaryBad - m * q) ** 2 / (m * q * (1 - q));
  return {
    ...next,
    residuals: state.residuals + r2 - 1,
    excess: state.excess + h,
    counted: state.counted + 1,
  };
}

const isFinite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** Reads the state back from memory; a fresh estimate when absent or unusable. */
export function readDispersion(x: unknown): DispersionState {
  if (typeof x !== "object" || x === null) return freshDispersion();
  const d = x as Record<string, unknown>;
  const fresh = freshDispersion();
  const keys = Object.keys(fresh) as (keyof DispersionState)[];
  if (!keys.every((k) => isFinite(d[k]))) return fresh;
  for (const k of keys) fresh[k] = d[k] as number;
  return fresh;
}

/** "errors are bursty: evidence counted ×0.12", or undefined when the discount is negligible. */
export function describeDiscount(what: string, weight: number): string | undefined {
  if (!(weight < SHOWN_BELOW)) return undefined;
  return `${what} bursty: evidence counted ×${Number(weight.toPrecision(2))}`;
}
