import type { MetricSpec, MetricStatus, Verdict } from "../api/rollout.ts";
import { countAbove, finiteBuckets } from "./histogram.ts";
import { formatEvidence, formatPercent, type IntervalCounts } from "./interval.ts";
import { logMeanExp } from "./mixture.ts";

/**
 * The bounds a user writes on built-in metrics (`successRate` min, `latencyP99` max), held
 * as anytime-valid absolute guards beside the canary-vs-stable test.
 *
 * Each guard tests H0: the canary's rate of bad requests is at most p0 (errors: p0 = 1 −
 * min/100; latency: P99 ≤ X ⇔ at most 1% of requests are slower than X, so p0 = 1% on
 * requests slower than the smallest bucket bound ≥ X, which is conservative). Products
 * over intervals of the binomial likelihood ratios of p_j = k·p0 against p0 are test
 * martingales under H0, so by Ville's inequality their mean crosses 1/α with probability
 * at most α however often it is looked at. A canary is only blamed when stable meets the
 * bound over the same window: if stable breaks it too, the bound is not the canary's fault.
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

function logRatio(p0: number, requests: number, bad: number, k: number): number {
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
export function foldGuards(
  metrics: readonly MetricSpec[],
  previous: GuardMemories,
  canary: IntervalCounts,
  stable: IntervalCounts,
): GuardMemories {
  const next: GuardMemories = {};
  for (const metric of metrics) {
    const target = targetOf(metric);
    if (!target) continue;
    const old = previous[metric.name];
    const memory = old?.p0 === target.p0 ? old : freshGuard(target.p0);
    next[metric.name] = foldOne(memory, target, canary, stable);
  }
  return next;
}

function foldOne(
  memory: GuardMemory,
  target: Target,
  canary: IntervalCounts,
  stable: IntervalCounts,
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
  return {
    p0: memory.p0,
    logs: memory.logs.map((l, j) =>
      Math.min(LOG_CAP, l + logRatio(memory.p0, c.requests, c.bad, BOUND_MULTIPLES[j] ?? 1)),
    ),
    canary: add(memory.canary, c.requests, c.bad),
    stable: s ? add(memory.stable, s.requests, s.bad) : memory.stable,
    ...(boundaryMs === undefined ? {} : { boundaryMs }),
  };
}

function smallestBoundAtLeast(
  buckets: readonly { le: number; count: number }[],
  ms: number,
): number | undefined {
  return finiteBuckets(buckets).find((b) => b.le >= ms)?.le;
}

export interface GuardOutcome {
  verdict: Verdict;
  /** The guard's evidence (mixture likelihood ratio), finite. */
  evidence: number;
  message: string;
}

/**
 * The guard's verdict for one metric: Failed when its evidence reached 1/α and stable met
 * the bound over the same window; Inconclusive when stable breaks the bound too; else
 * Running. Undefined when the metric has no guard (or it has seen nothing yet).
 */
export function guardOutcome(
  metric: MetricSpec,
  memory: GuardMemory | undefined,
  alpha: number,
  minRequests: number,
): GuardOutcome | undefined {
  const target = targetOf(metric);
  if (!target || memory?.p0 !== target.p0) return undefined;
  const bound = 1 / alpha;
  const log = logMeanExp(memory.logs);
  const evidence = Number(Math.exp(Math.min(log, 690)).toPrecision(4));
  const latency = target.maxMs !== undefined;
  if (latency && memory.boundaryMs === undefined) {
    return {
      verdict: "Running",
      evidence,
      message: `maximum ${target.maxMs} ms not judged yet: no histogram bucket at or above it`,
    };
  }
  const limit = latency ? `maximum ${target.maxMs} ms` : `minimum ${metric.min}%`;
  const crossed = log >= Math.log(bound);
  if (!crossed)
    return {
      verdict: "Running",
      evidence,
      message: `${limit}: evidence ${formatEvidence(log)} of ${bound}`,
    };
  const rate = (t: Tally) => t.bad / t.requests;
  const needed = Math.max(20, minRequests);
  const stableBreaks = memory.stable.requests >= needed && rate(memory.stable) > memory.p0;
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
  if (stableBreaks) {
    return {
      verdict: "Inconclusive",
      evidence,
      message:
        `${metric.name}: stable also breaks the bound, so the canary is not blamed ` +
        `(canary ${describe(memory.canary)}, stable ${describe(memory.stable)} since analysis started; ${limit}${judgedOn})`,
    };
  }
  const breach = latency
    ? `canary P99 is above the maximum ${target.maxMs} ms: ${describe(memory.canary)}, more than the 1% a P99 within it allows`
    : `canary success ${formatPercent(100 * (1 - rate(memory.canary)))} is below the minimum ${metric.min}%`;
  return {
    verdict: "Failed",
    evidence,
    message:
      `${metric.name}: ${breach} (evidence ${formatEvidence(log)} ≥ ${bound} over ${memory.canary.requests} canary requests; ` +
      `stable ${describe(memory.stable)}${judgedOn})`,
  };
}

/** Combines the canary-vs-stable status of a metric with its guard: a failure of either wins. */
export function withGuard(status: MetricStatus, guard: GuardOutcome | undefined): MetricStatus {
  if (!guard || status.verdict === "Failed") return status;
  if (guard.verdict === "Running")
    return { ...status, message: `${status.message ?? status.verdict}; ${guard.message}` };
  return { ...status, verdict: guard.verdict, evidence: guard.evidence, message: guard.message };
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
    guards[name] = {
      p0: g.p0,
      logs: [...(logs as number[])],
      canary,
      stable,
      ...(g.boundaryMs === undefined ? {} : { boundaryMs: g.boundaryMs }),
    };
  }
  return guards;
}
