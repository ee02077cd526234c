import type { AnalysisSpec, MetricSpec, MetricStatus, Verdict } from "../api/rollout.ts";
import { foldGuards, guardOutcome, type GuardOutcome } from "./absolute-guard.ts";
import { catastrophe } from "./catastrophe.ts";
import { judgeCustomMetric } from "./custom-metrics.ts";
import {
  describeDiscount,
  predictedInflation,
  updateDispersion,
  type DispersionState,
} from "./dispersion.ts";
import { addBuckets, boundaryWithFractionAbove, countAbove } from "./histogram.ts";
import {
  usableReading,
  formatEvidence,
  formatMs,
  formatPercent,
  intervalCounts,
  p99Ms,
  sharedOutage,
  successPercent,
  type IntervalCounts,
} from "./interval.ts";
import type { Judge, JudgeMemory, Judgement, MetricsSample } from "./judge.ts";
import {
  addEvidence,
  addInterval,
  logEvidenceNoWorse,
  logEvidenceWorse,
  logMeanExp,
  noEvidence,
  type RatioEvidence,
} from "./mixture.ts";
import { freshMemory, readSequentialMemory, type SequentialMemory } from "./sequential-memory.ts";

/**
 * The default judge: an anytime-valid sequential test of the canary against stable in
 * the same intervals (ANCHORS §3, §3b). Each interval's bad requests are split by that
 * interval's canary share, so a shared incident adds no evidence; each interval's
 * evidence is discounted for bursts by a weight fixed before its counts are seen
 * (dispersion.ts). One α bounds the whole release: the catastrophic guard spends a
 * tenth of it, and the rest is shared by the average of every built-in metric's
 * e-processes (canary-vs-stable and its min/max guard), which is an e-process itself
 * (Vovk & Wang); the release rolls back when that average reaches 1/α. A mirror test per
 * metric reports Passed when the canary is no worse, which only permits early promotion.
 * Latency is tested the same way on requests slower than a bucket near stable's P99.
 */

/** The share of α the catastrophic guard spends; the rest goes to the metrics. */
const CATASTROPHE_SHARE = 0.1;
/** Within a metric with a min/max guard: the share of the canary-vs-stable test. */
const COMPARISON_SHARE = 2 / 3;

/** "Slow" means slower than the smallest bucket bound that at most 1% of stable's requests exceed. */
const SLOW_FRACTION = 0.01;
/** Stable requests needed before that bound is chosen (1% of them is then ≥ 2 requests). */
const REQUESTS_TO_CHOOSE_BOUNDARY = 200;

export const sequentialJudge: Judge = { judge: judgeSequential };

export function judgeSequential(
  spec: AnalysisSpec,
  memory: JudgeMemory | undefined,
  sample: MetricsSample,
): Judgement {
  const previous = readSequentialMemory(memory);
  const reading = usableReading(spec, memory, sample);
  if (!reading.ok) return reading.judgement;
  const last = reading.last;
  if (!previous) {
    const unreadable = memory !== undefined && Object.keys(memory).length > 0;
    return {
      verdict: "Running",
      message: unreadable
        ? "The judge's saved state was unreadable, so a new test starts from this reading."
        : "First reading taken as the baseline; judging starts with the next interval.",
      metrics: spec.metrics.map((m) => ({ name: m.name, verdict: "Running" })),
      conclusive: false,
      memory: freshMemory(last),
    };
  }
  const canary = intervalCounts(last.canary, previous.last.canary);
  const stable = intervalCounts(last.stable, previous.last.stable);
  // The discounts are fixed from the past and this interval's request counts only.
  const errorsInflation = predictedInflation(
    previous.dispersion.errors,
    canary.requests,
    stable.requests,
  );
  const latencyInflation = predictedInflation(
    previous.dispersion.latency,
    canary.observed,
    stable.observed,
  );
  const weights = { errors: 1 / errorsInflation.phi, latency: 1 / latencyInflation.phi };
  const next = foldInterval(spec, previous, canary, stable, weights);
  next.last = last;
  next.guards = foldGuards(spec.metrics, previous.guards, canary, stable, {
    errors: errorsInflation.kappa,
    latency: latencyInflation.kappa,
  });
  const counted = canary.requests > 0 && stable.requests > 0;
  next.intervals = previous.intervals + (canary.requests > 0 ? 1 : 0);
  next.discounts = {
    errors: counted ? weights.errors : previous.discounts.errors,
    latency:
      counted && previous.boundaryMs !== undefined ? weights.latency : previous.discounts.latency,
  };
  const conclusive =
    next.pending.canary === 0 && next.pending.stable === 0 && canary.requests + stable.requests > 0;

  const alphaMetrics = spec.alpha * (1 - CATASTROPHE_SHARE);
  const builtins = spec.metrics.filter((m) => m.builtin !== undefined);
  const metricBound = builtins.length / alphaMetrics;
  const tests: MetricTest[] = builtins.map((metric) =>
    metricTest(metric, next, guardOutcome(metric, next.guards[metric.name], spec.minRequests)),
  );
  const logRelease =
    tests.length > 0 ? logMeanExp(tests.map((t) => t.logEvidence)) : Number.NEGATIVE_INFINITY;
  const releaseFails = tests.length > 0 && logRelease >= Math.log(1 / alphaMetrics);
  const blamed = releaseFails
    ? tests.reduce((a, b) => (b.logEvidence > a.logEvidence ? b : a))
    : undefined;

  const metrics: MetricStatus[] = [];
  const failures: Record<string, number> = { ...next.failures };
  for (const metric of spec.metrics) {
    const test = tests.find((t) => t.metric === metric);
    if (test) {
      const figures =
        metric.builtin === "successRate"
          ? errorFigures(canary, stable)
          : latencyFigures(next, canary, stable);
      metrics.push(
        builtinStatus(
          test,
          next,
          metricBound,
          conclusive,
          figures,
          test === blamed,
          logRelease,
          1 / alphaMetrics,
        ),
      );
    } else {
      const judged = judgeCustomMetric(
        metric,
        sample,
        failures[metric.name] ?? 0,
        spec.failureLimit,
      );
      failures[metric.name] = judged.failures;
      metrics.push(judged.status);
    }
  }
  next.failures = failures;
  for (const m of metrics)
    if (m.verdict === "Passed" && !next.passed.includes(m.name)) next.passed.push(m.name);

  const healthy = spec.metrics.find((m) => m.builtin === "successRate" && m.min !== undefined);
  const fatal = catastrophe({
    canary,
    stable,
    catastrophicErrorRate: spec.catastrophicErrorRate,
    minRequests: spec.minRequests,
    healthyRate: healthy?.min !== undefined ? Math.max(0.001, 1 - healthy.min / 100) : 0.01,
    kappa: errorsInflation.kappa,
    index: Math.max(1, next.intervals),
    alpha: spec.alpha * CATASTROPHE_SHARE,
  });
  const stableFailing = tests.find((t) => t.guard?.stableFailingToo !== undefined);
  const { verdict, message } = overall(
    spec,
    metrics,
    canary,
    stable,
    conclusive,
    next,
    fatal,
    stableFailing?.guard?.stableFailingToo,
  );
  return {
    verdict,
    message,
    metrics,
    conclusive: conclusive && stableFailing === undefined,
    memory: next,
  };
}

/** Adds one interval's evidence; intervals with too little traffic are pooled first. */
function foldInterval(
  spec: AnalysisSpec,
  memory: SequentialMemory,
  canary: IntervalCounts,
  stable: IntervalCounts,
  weights: { errors: number; latency: number },
): SequentialMemory {
  const errors = addInterval(
    noEvidence(),
    canary.requests,
    stable.requests,
    canary.errors,
    stable.errors,
    weights.errors,
  );
  let latency = noEvidence();
  let latencyDispersion: DispersionState = memory.dispersion.latency;
  if (memory.boundaryMs !== undefined) {
    const slowCanary = countAbove(canary.buckets, memory.boundaryMs, canary.observed);
    const slowStable = countAbove(stable.buckets, memory.boundaryMs, stable.observed);
    if (slowCanary !== undefined && slowStable !== undefined) {
      latency = addInterval(
        latency,
        canary.observed,
        stable.observed,
        slowCanary,
        slowStable,
        weights.latency,
      );
      latencyDispersion = updateDispersion(
        latencyDispersion,
        canary.observed,
        stable.observed,
        slowCanary,
        slowStable,
      );
    }
  }
  const pending = {
    canary: memory.pending.canary + canary.requests,
    stable: memory.pending.stable + stable.requests,
    errors: addEvidence(memory.pending.errors, errors),
    latency: addEvidence(memory.pending.latency, latency),
  };
  const needed = Math.max(1, spec.minRequests);
  const enough = pending.canary >= needed && pending.stable >= needed;
  const next: SequentialMemory = {
    ...memory,
    errors: enough ? addEvidence(memory.errors, pending.errors) : memory.errors,
    latency: enough ? addEvidence(memory.latency, pending.latency) : memory.latency,
    pending: enough
      ? { canary: 0, stable: 0, errors: noEvidence(), latency: noEvidence() }
      : pending,
    passed: [...memory.passed],
    // Only now, after the interval was weighed, does it teach the burst estimate.
    dispersion: {
      errors: updateDispersion(
        memory.dispersion.errors,
        canary.requests,
        stable.requests,
        canary.errors,
        stable.errors,
      ),
      latency: latencyDispersion,
    },
  };
  // The boundary is chosen from past intervals only and then never moves, so the
  // latency test only ever sees data that came after its choice.
  if (memory.boundaryMs === undefined && spec.metrics.some((m) => m.builtin === "latencyP99")) {
    const soFar = addBuckets(
      memory.stableSoFar.map(([le, count]) => ({ le, count })),
      stable.buckets,
    );
    const total = memory.stableSoFarTotal + stable.observed;
    const boundary =
      total >= REQUESTS_TO_CHOOSE_BOUNDARY
        ? boundaryWithFractionAbove(soFar, total, SLOW_FRACTION)
        : undefined;
    if (boundary !== undefined) next.boundaryMs = boundary;
    next.stableSoFar = boundary === undefined ? soFar.map((b) => [b.le, b.count]) : [];
    next.stableSoFarTotal = boundary === undefined ? total : 0;
  }
  return next;
}

/** One built-in metric's share of the release's evidence: its comparison and its guard. */
interface MetricTest {
  metric: MetricSpec;
  comparison: RatioEvidence;
  /** Log of the metric's e-process: the weighted mean of its comparison and its guard. */
  logEvidence: number;
  /** Whether the comparison (rather than the guard) carries most of it. */
  comparisonLeads: boolean;
  guard?: GuardOutcome | undefined;
  discount: number;
}

function metricTest(
  metric: MetricSpec,
  memory: SequentialMemory,
  guard: GuardOutcome | undefined,
): MetricTest {
  const latency = metric.builtin === "latencyP99";
  const comparison = latency ? memory.latency : memory.errors;
  const logComparison = logEvidenceWorse(comparison);
  const discount = latency ? memory.discounts.latency : memory.discounts.errors;
  if (!guard)
    return { metric, comparison, logEvidence: logComparison, comparisonLeads: true, discount };
  const a = Math.log(COMPARISON_SHARE) + logComparison;
  const b = Math.log(1 - COMPARISON_SHARE) + guard.logEvidence;
  const top = Math.max(a, b);
  return {
    metric,
    comparison,
    logEvidence: top + Math.log(Math.exp(a - top) + Math.exp(b - top)),
    comparisonLeads: a >= b,
    guard,
    discount,
  };
}

interface Figures {
  canary?: number | undefined;
  stable?: number | undefined;
  /** e.g. "success 97.5% vs stable 99.5%". */
  text: string;
  worse: string;
  /** Set while the test cannot start yet (latency boundary not chosen). */
  waiting?: string;
  /** "errors are" / "latencies are": what the discount is about. */
  stream: string;
}

function errorFigures(canary: IntervalCounts, stable: IntervalCounts): Figures {
  const c = successPercent(canary);
  const s = successPercent(stable);
  return {
    canary: c,
    stable: s,
    text:
      c !== undefined && s !== undefined
        ? `success ${formatPercent(c)} vs stable ${formatPercent(s)} in the last interval`
        : "no requests to compare in the last interval",
    worse: "the canary fails more often than stable",
    stream: "errors are",
  };
}

function latencyFigures(
  memory: SequentialMemory,
  canary: IntervalCounts,
  stable: IntervalCounts,
): Figures {
  const c = p99Ms(canary);
  const s = p99Ms(stable);
  const p99 =
    c !== undefined && s !== undefined
      ? `P99 ${formatMs(c)} vs stable ${formatMs(s)}`
      : "no latencies";
  return {
    canary: c,
    stable: s,
    text:
      memory.boundaryMs === undefined
        ? p99
        : `${p99} in the last interval, judged on requests slower than ${memory.boundaryMs} ms`,
    worse: "the canary is slower than stable",
    stream: "latencies are",
    ...(memory.boundaryMs === undefined
      ? {
          waiting: `${p99}; waiting for ${REQUESTS_TO_CHOOSE_BOUNDARY} stable requests to fix a latency boundary near stable's P99`,
        }
      : {}),
  };
}

function builtinStatus(
  test: MetricTest,
  memory: SequentialMemory,
  bound: number,
  conclusive: boolean,
  figures: Figures,
  blamed: boolean,
  logRelease: number,
  releaseBound: number,
): MetricStatus {
  const { metric, guard } = test;
  const logNoWorse = logEvidenceNoWorse(test.comparison);
  const shownBound = Number(bound.toPrecision(3));
  const burst = describeDiscount(figures.stream, test.discount);
  const base = {
    name: metric.name,
    ...(figures.canary !== undefined ? { canary: round(figures.canary) } : {}),
    ...(figures.stable !== undefined ? { stable: round(figures.stable) } : {}),
    evidence: Number(Math.exp(Math.min(test.logEvidence, 690)).toPrecision(4)),
    bound: shownBound,
    ...(test.discount < 1 ? { discount: Number(test.discount.toPrecision(2)) } : {}),
  };
  const extras = [guard?.message, burst].filter((x): x is string => x !== undefined);
  const tail = extras.length > 0 ? `; ${extras.join("; ")}` : "";
  if (blamed) {
    const release = `release evidence ${formatEvidence(logRelease)} ≥ ${Number(releaseBound.toPrecision(3))}, all metrics and guards together`;
    const why =
      test.comparisonLeads || !guard
        ? `${metric.name}: ${figures.worse} (${figures.text}; evidence ${formatEvidence(test.logEvidence)}; ${release}${burst ? `; ${burst}` : ""})`
        : `${guard.breach.slice(0, -1)}; ${release})`;
    return { ...base, verdict: "Failed", message: why };
  }
  if (guard?.stableFailingToo !== undefined)
    return { ...base, verdict: "Inconclusive", message: guard.stableFailingToo };
  if (figures.waiting !== undefined)
    return {
      ...base,
      verdict: conclusive ? "Running" : "Inconclusive",
      message: `${figures.waiting}${tail}`,
    };
  const logBound = Math.log(bound);
  if (memory.passed.includes(metric.name) || logNoWorse >= logBound) {
    return {
      ...base,
      verdict: "Passed",
      message: `${figures.text}; the canary is no worse than stable (evidence ${formatEvidence(logNoWorse)} ≥ ${shownBound})${tail}`,
    };
  }
  return {
    ...base,
    verdict: conclusive ? "Running" : "Inconclusive",
    message: `${figures.text}; evidence ${formatEvidence(test.logEvidence)} of ${shownBound} needed to roll back${tail}`,
  };
}

function overall(
  spec: AnalysisSpec,
  metrics: readonly MetricStatus[],
  canary: IntervalCounts,
  stable: IntervalCounts,
  conclusive: boolean,
  memory: SequentialMemory,
  fatal: string | undefined,
  stableFailingToo: string | undefined,
): { verdict: Verdict; message: string } {
  if (fatal !== undefined) return { verdict: "Failed", message: `Rolling back: ${fatal}.` };
  const failed = metrics.find((m) => m.verdict === "Failed");
  if (failed)
    return { verdict: "Failed", message: `Rolling back: ${failed.message ?? failed.name}.` };
  if (sharedOutage(canary, stable, spec.catastrophicErrorRate)) {
    const rate = (c: IntervalCounts) => formatPercent((100 * c.errors) / c.requests);
    return {
      verdict: "Inconclusive",
      message: `Analysis holds: shared outage, canary and stable both fail (${rate(canary)} and ${rate(stable)} in the last interval).`,
    };
  }
  if (stableFailingToo !== undefined)
    return { verdict: "Inconclusive", message: `Analysis holds: ${stableFailingToo}.` };
  if (!conclusive)
    return {
      verdict: "Inconclusive",
      message: `Analysis holds: ${lowTraffic(spec, canary, stable, memory)}.`,
    };
  const unsure = metrics.find((m) => m.verdict === "Inconclusive");
  if (unsure)
    return {
      verdict: "Inconclusive",
      message: `Analysis holds: ${unsure.message ?? unsure.name}.`,
    };
  const summary = metrics.map((m) => `${m.name}: ${m.message ?? m.verdict}`).join("; ");
  if (
    metrics.every(
      (m) => m.verdict === "Passed" || (m.verdict === "Running" && isCustom(spec, m.name)),
    )
  ) {
    if (metrics.some((m) => m.verdict === "Passed")) {
      return { verdict: "Passed", message: `The canary is no worse than stable (${summary}).` };
    }
  }
  return { verdict: "Running", message: `No regression so far (${summary}).` };
}

function isCustom(spec: AnalysisSpec, name: string): boolean {
  return spec.metrics.some((m) => m.name === name && m.builtin === undefined);
}

function lowTraffic(
  spec: AnalysisSpec,
  canary: IntervalCounts,
  stable: IntervalCounts,
  memory: SequentialMemory,
): string {
  if (canary.requests === 0 && stable.requests === 0)
    return "no traffic: canary and stable received 0 requests in the last interval";
  if (canary.requests === 0)
    return "no traffic: the canary received 0 requests in the last interval";
  if (stable.requests === 0) return "no traffic: stable received 0 requests in the last interval";
  const needed = Math.max(1, spec.minRequests);
  return (
    `too little traffic: the canary received ${canary.requests} and stable ${stable.requests} requests in the last interval; ` +
    `evidence waits until each side has ${needed} (canary ${memory.pending.canary}, stable ${memory.pending.stable} so far)`
  );
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
