import type { AnalysisSpec, MetricSpec, MetricStatus } from "../api/rollout.ts";
import { foldGuards, guardOutcome, type GuardOutcome } from "./absolute-guard.ts";
import { catastrophe } from "./catastrophe.ts";
import { judgeCustomMetric } from "./custom-metrics.ts";
import { predictedInflation, updateDispersion, type DispersionState } from "./dispersion.ts";
import { addBuckets, boundaryWithFractionAbove, countAbove } from "./histogram.ts";
import { usableReading, intervalCounts, type IntervalCounts } from "./interval.ts";
import type { Judge, JudgeMemory, Judgement, MetricsSample } from "./judge.ts";
import {
  addEvidence,
  addInterval,
  logEvidenceWorse,
  logWeightedMeanExp,
  noEvidence,
} from "./mixture.ts";
import {
  freshMemory,
  readSequentialMemory,
  REQUESTS_TO_CHOOSE_BOUNDARY,
  type SequentialMemory,
} from "./sequential-memory.ts";
import {
  builtinStatus,
  errorFigures,
  latencyFigures,
  overall,
  type MetricTest,
} from "./sequential-verdicts.ts";

/**
 * The default judge: an anytime-valid sequential test of the canary against stable in
 * the same intervals (ANCHORS §3, §3b). Each interval's bad requests are split by that
 * interval's canary share, so a shared incident adds no evidence; each interval's
 * evidence is discounted for bursts by a weight fixed before its counts are seen
 * (dispersion.ts). One α bounds the whole release: the catastrophic guard spends a
 * tenth of it, and the rest is shared by a weighted average of every built-in metric's
 * e-processes (canary-vs-stable and its min/max guard), which is an e-process itself
 * (Vovk & Wang) because the weights are fixed by the spec before any data and sum to 1;
 * the release rolls back when that average reaches 1/α. A mirror test per
 * metric reports Passed when the canary is no worse, which only permits early promotion.
 * Latency is tested the same way on requests slower than a bucket near stable's P99.
 */

/** The share of α the catastrophic guard spends; the rest goes to the metrics. */
const CATASTROPHE_SHARE = 0.1;
/**
 * Within a metric with a min/max guard: the share of the canary-vs-stable test. The guard
 * only leads when stable cannot be compared with (little stable traffic, or stable
 * failing too), where it is strong anyway; the comparison carries ordinary regressions.
 */
const COMPARISON_SHARE = 0.8;

/**
 * Relative share of the release's α by kind of built-in metric, normalised over the
 * metrics the spec lists (so it depends on the spec only, never on data). Error rates get
 * most of it: most regressions show there, and a slow latency regression, judged on the
 * requests above a bucket near stable's P99, still piles up evidence at a fifth of the
 * budget (bench:detect: P99 ×1.5).
 */
const RELEASE_SHARE = { successRate: 4, latencyP99: 1 } as const;

/** Each built-in metric's fixed share of the metrics' α (they sum to 1). */
export function releaseShares(builtins: readonly MetricSpec[]): number[] {
  const raw: number[] = builtins.map((m) =>
    m.builtin === undefined ? 0 : RELEASE_SHARE[m.builtin],
  );
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => r / total);
}

/** "Slow" means slower than the smallest bucket bound that at most 1% of stable's requests exceed. */
const SLOW_FRACTION = 0.01;

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
  const shares = releaseShares(builtins);
  const tests: MetricTest[] = builtins.map((metric) =>
    metricTest(metric, next, guardOutcome(metric, next.guards[metric.name], spec.minRequests)),
  );
  const logRelease =
    tests.length > 0
      ? logWeightedMeanExp(
          tests.map((t) => t.logEvidence),
          shares,
        )
      : Number.NEGATIVE_INFINITY;
  const releaseFails = tests.length > 0 && logRelease >= Math.log(1 / alphaMetrics);
  const blamed = releaseFails
    ? tests.reduce((a, b) => (b.logEvidence > a.logEvidence ? b : a))
    : undefined;

  const metrics: MetricStatus[] = [];
  const failures: Record<string, number> = { ...next.failures };
  for (const metric of spec.metrics) {
    const index = tests.findIndex((t) => t.metric === metric);
    const test = tests[index];
    if (test) {
      // What this metric would need alone: its share of the metrics' α.
      const metricBound = 1 / (alphaMetrics * (shares[index] ?? 1));
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
