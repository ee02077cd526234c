import type { MetricSpec } from "../api/rollout.ts";
import { countAbove, finiteBuckets } from "./histogram.ts";
import { formatEvidence, formatPercent, type IntervalCounts } from "./interval.ts";
import { intervalCap, logMeanExp } from "./mixture.ts";

/**
 * The bounds a user writes on built-in metrics (`successRate` min, `latencyP99` max), held
 * as anytime-valid guards beside the canary-vs-stable test, judged in the same intervals
 * as stable.
 *
 * Each guard tests H0: in every interval, the canary's rate of bad requests is at most
 * max(p0, what stable did in that interval) (errors: p0 = 1 − min/100; latency: P99 ≤ X ⇔
 * at most 1% of requests are slower than X, so p0 = 1% on requests slower than the
 * smallest bucket bound ≥ X, which is conservative). "What stable did" is an upper
 * confidence bound on stable's rate in that same interval, so a shared incident raises
 * the bar for both and convicts nobody. Products over intervals of the binomial
 * likelihood ratios of k·p0_t against p0_t, each discounted for bursts (dispersion.ts),
 * are test martingales under H0; the judge spends one share of α on their mixture.
 */

/** Alternatives of the guard: the canary's bad rate is k times the bound. */
export const BOUND_MULTIPLES = [1.5, 2, 3, 5, 10] as const;
/** P99 ≤ X means at most this fraction of requests is slower than X. */
const P99_SLOW_FRACTION = 0.01;
/** Log evidence is capped here so memory never holds Infinity (it is far past any 1/α). */
const LOG_CAP = 700;

export interface Tally {
  requests: number;
  bad: number;
}

/** One guard's state in the judge's memory: finite numbers only, no nulls. */
export interface GuardMemory {
  /** The bound this evidence was gathered against; another bound starts a new test. */
  p0: number;
  /** Log likelihood ratio of each alternative in BOUND_MULTIPLES, summed over intervals. */
  logs: number[];
  canary: Tally;
  stable: Tally;
  /** Latency guards: the bucket bound (ms) requests are judged against, fixed once chosen. */
  boundaryMs?: number;
  /** The last interval of each version (canary, stable), to say when stable fails too. */
  lastCanary?: Tally;
  lastStable?: Tally;
}

/** Guards by metric name. */
export type GuardMemories = Record<string, GuardMemory>;

interface Target {
  p0: number;
  /** The latency bound in ms (latencyP99 max); undefined for error rates. */
  maxMs?: number;
}

/** What a metric's bound asks of the canary, or undefined when it sets none worth testing. */
function targetOf(metric: MetricSpec): Target | undefined {
  if (metric.builtin === "successRate" && metric.min !== undefined) {
    const p0 = Math.min(1, Math.max(0, 1 - metric.min / 100));
    return p0 < 1 ? { p0 } : undefined;
  }
  if (metric.builtin === "latencyP99" && metric.max !== undefined)
    return { p0: P99_SLOW_FRACTION, maxMs: metric.max };
  return undefined;
}

/** An alternative strictly between p0 and 1: k·p0, capped so that k·p0 ≥ 1 stays below 1. */
function alternative(p0: number, k: number): number {
  return Math.min(k * p0, 1 - (1 - p0) / k);
}

/**
 * An upper bound on stable's bad rate in one interval (about 2 standard deviations up,
 * widened by the burst inflation φ); undefined without stable requests.
 */
export function stableUpper(stable: Tally, phi = 1): number | undefined {
  if (!(stable.requests > 0)) return undefined;
  return Math.min(1, (stable.bad + 2 * Math.sqrt(phi * (stable.bad + 1)) + 1) / stable.requests);
}

/** The null of one interval: the bound, or stable's rate in the same interval when higher. */
export function intervalNull(p0: number, stable: Tally | undefined, phi = 1): number {
  const upper = stable ? stableUpper(stable, phi) : undefined;
  return upper === undefined ? p0 : Math.max(p0, upper);
}

export function logRatio(p0: number, requests: number, bad: number, k: number): number {
  // With p0 = 0 (min 100%) one bad request is impossible under H0: certain evidence.
  if (p0 <= 0) return bad > 0 ? LOG_CAP : 0;
  const p = alternative(p0, k);
  return bad * Math.log(p / p0) + (requests - bad) * Math.log((1 - p) / (1 - p0));
}

function freshGuard(p0: number): GuardMemory {
  return {
    p0,
    logs: BOUND_MULTIPLES.map(() => 0),
    canary: { requests: 0, bad: 0 },
    stable: { requests: 0, bad: 0 },
  };
}

const add = (t: Tally, requests: number, bad: number): Tally => ({
  requests: t.requests + requests,
  bad: t.bad + bad,
});

/** Adds one interval of both versions to every guard the spec asks for. */
/** κ̂ of each stream (dispersion.ts), fixed before this interval: a count λ has variance λ(1 + κλ). */
export interface GuardDiscounts {
  errors: number;
  latency: number;
}

const NO_DISCOUNT: GuardDiscounts = { errors: 0, latency: 0 };

export function foldGuards(
  metrics: readonly MetricSpec[],
  previous: GuardMemories,
  canary: IntervalCounts,
  stable: IntervalCounts,
  discounts: GuardDiscounts = NO_DISCOUNT,
): GuardMemories {
  const next: GuardMemories = {};
  for (const metric of metrics) {
    const target = targetOf(metric);
    if (!target) continue;
    const old = previous[metric.name];
    const memory = old?.p0 === target.p0 ? old : freshGuard(target.p0);
    const kappa = target.maxMs === undefined ? discounts.errors : discounts.latency;
    next[metric.name] = foldOne(memory, target, canary, stable, kappa);
  }
  return next;
}

function foldOne(
  memory: GuardMemory,
  target: Target,
  canary: IntervalCounts,
  stable: IntervalCounts,
  kappa: number,
): GuardMemory {
  let c = { requests: canary.requests, bad: canary.errors };
  let s: Tally | undefined = { requests: stable.requests, bad: stable.errors };
  let boundaryMs = memory.boundaryMs;
  if (target.maxMs !== undefined) {
    boundaryMs ??= smallestBoundAtLeast([...canary.buckets, ...stable.buckets], target.maxMs);
    if (boundaryMs === undefined) return memory;
    const slowCanary = countAbove(canary.buckets, boundaryMs, canary.observed);
    const slowStable = countAbove(stable.buckets, boundaryMs, stable.observed);
    if (slowCanary === undefined) return { ...memory, boundaryMs };
    c = { requests: canary.observed, bad: slowCanary };
    s = slowStable === undefined ? undefined : { requests: stable.observed, bad: slowStable };
  }
  // Stable's bar widens with its own bursts; the canary's evidence is discounted by the
  // inflation its count would have at the null rate (both known before the canary's count).
  const p0 = intervalNull(memory.p0, s, s ? 1 + kappa * s.bad : 1);
  const counted = p0 < 1 && c.requests > 0;
  const weight = 1 / (1 + kappa * c.requests * p0);
  // The cap shrinks with the discount, as the comparison's does (mixture.ts).
  const cap = intervalCap(weight);
  return {
    p0: memory.p0,
    logs: memory.logs.map((l, j) =>
      counted
        ? Math.max(
            -LOG_CAP,
            Math.min(
              LOG_CAP,
              l + Math.min(cap, weight * logRatio(p0, c.requests, c.bad, BOUND_MULTIPLES[j] ?? 1)),
            ),
          )
        : l,
    ),
    canary: add(memory.canary, c.requests, c.bad),
    stable: s ? add(memory.stable, s.requests, s.bad) : memory.stable,
    ...(boundaryMs === undefined ? {} : { boundaryMs }),
    lastCanary: c,
    ...(s ? { lastStable: s } : {}),
  };
}

function smallestBoundAtLeast(
  buckets: readonly { le: number; count: number }[],
  ms: number,
): number | undefined {
  return finiteBuckets(buckets).find((b) => b.le >= ms)?.le;
}

export interface GuardOutcome {
  /** Log of the guard's evidence (mixture likelihood ratio). */
  logEvidence: number;
  /** Why the canary would be blamed, when its evidence is what rolls back. */
  breach: string;
  /** Running message: the bound and its evidence so far. */
  message: string;
  /** Set when both versions broke the bound in the last interval: the release holds. */
  stableFailingToo?: string;
}

/** The guard's evidence and words for one metric; undefined when it has none (or has seen nothing yet). */
export function guardOutcome(
  metric: MetricSpec,
  memory: GuardMemory | undefined,
  minRequests: number,
): GuardOutcome | undefined {
  const target = targetOf(metric);
  if (!target || memory?.p0 !== target.p0) return undefined;
  const log = logMeanExp(memory.logs);
  const latency = target.maxMs !== undefined;
  if (latency && memory.boundaryMs === undefined) {
    return {
      logEvidence: 0,
      breach: "",
      message: `maximum ${target.maxMs} ms not judged yet: no histogram bucket at or above it`,
    };
  }
  const limit = latency ? `maximum ${target.maxMs} ms` : `minimum ${metric.min}%`;
  const rate = (t: Tally) => (t.requests > 0 ? t.bad / t.requests : 0);
  const describe = (t: Tally): string =>
    latency
      ? `${formatPercent(100 * rate(t))} slower than ${memory.boundaryMs} ms`
      : `success ${formatPercent(100 * (1 - rate(t)))}`;
  const judgedOn =
    latency && memory.boundaryMs !== target.maxMs
      ? `; judged on requests slower than ${memory.boundaryMs} ms, the smallest histogram bucket at or above ${target.maxMs} ms`
      : latency
        ? `; judged on requests slower than ${memory.boundaryMs} ms`
        : "";
  const needed = Math.max(20, minRequests);
  const breaks = (t: Tally | undefined): t is Tally =>
    t !== undefined && t.requests >= needed && rate(t) > memory.p0;
  const stableFailingToo =
    breaks(memory.lastCanary) && breaks(memory.lastStable)
      ? `${metric.name}: stable is failing too, so the canary is not blamed ` +
        `(canary ${describe(memory.lastCanary)}, stable ${describe(memory.lastStable)} in the last interval; ${limit}${judgedOn})`
      : undefined;
  const breach = latency
    ? `canary P99 is above the maximum ${target.maxMs} ms: ${describe(memory.canary)}, more than the 1% a P99 within it allows`
    : `canary success ${formatPercent(100 * (1 - rate(memory.canary)))} is below the minimum ${metric.min}%`;
  return {
    logEvidence: log,
    breach:
      `${metric.name}: ${breach} (guard evidence ${formatEvidence(log)} over ${memory.canary.requests} canary requests, ` +
      `each interval against the bound or stable's rate in it, whichever is higher; stable ${describe(memory.stable)}${judgedOn})`,
    message: `${limit}: evidence ${formatEvidence(log)}`,
    ...(stableFailingToo === undefined ? {} : { stableFailingToo }),
  };
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;

function readTally(x: unknown): Tally | undefined {
  if (typeof x !== "object" || x === null) return undefined;
  const t = x as Record<string, unknown>;
  return isCount(t.requests) && isCount(t.bad) ? { requests: t.requests, bad: t.bad } : undefined;
}

/** Reads guards back from memory; an absent or unusable guard is left out (it starts fresh). */
export function readGuards(x: unknown): GuardMemories {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return {};
  const guards: GuardMemories = {};
  for (const [name, value] of Object.entries(x as Record<string, unknown>)) {
    if (typeof value !== "object" || value === null) continue;
    const g = value as Record<string, unknown>;
    const canary = readTally(g.canary);
    const stable = readTally(g.stable);
    const logs = g.logs;
    const finiteLogs =
      Array.isArray(logs) &&
      logs.length === BOUND_MULTIPLES.length &&
      logs.every((l) => typeof l === "number" && Number.isFinite(l));
    if (!canary || !stable || !finiteLogs || !isCount(g.p0) || g.p0 >= 1) continue;
    if (!(g.boundaryMs === undefined || isCount(g.boundaryMs))) continue;
    const lastCanary = readTally(g.lastCanary);
    const lastStable = readTally(g.lastStable);
    guards[name] = {
      p0: g.p0,
      logs: [...(logs as number[])],
      canary,
      stable,
      ...(g.boundaryMs === undefined ? {} : { boundaryMs: g.boundaryMs }),
      ...(lastCanary ? { lastCanary } : {}),
      ...(lastStable ? { lastStable } : {}),
    };
  }
  return guards;
}
