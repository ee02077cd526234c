import type { AnalysisSpec, MetricSpec, MetricStatus, Verdict } from "../api/rollout.ts";
import { foldGuards, guardOutcome, withGuard } from "./absolute-guard.ts";
import { judgeCustomMetric } from "./custom-metrics.ts";
import { addBuckets, boundaryWithFractionAbove, countAbove } from "./histogram.ts";
import {
  catastrophe,
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
  noEvidence,
  type RatioEvidence,
} from "./mixture.ts";
import { freshMemory, readSequentialMemory, type SequentialMemory } from "./sequential-memory.ts";

/**
 * The default judge: an anytime-valid sequential test of the canary against stable
 * (ANCHORS §3). It rolls back when the evidence that the canary fails more often than
 * stable reaches 1/α (false rollbacks ≤ α however often it looks), and reports Passed
 * when a mirror test shows the canary is no worse, which only permits early promotion.
 * Latency is tested the same way on requests slower than a bucket near stable's P99.
 * The min/max written on built-ins are held by anytime-valid absolute guards (absolute-guard.ts).
 */

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
  const next = foldInterval(spec, previous, canary, stable);
  next.last = last;
  next.guards = foldGuards(spec.metrics, previous.guards, canary, stable);
  const conclusive =
    next.pending.canary === 0 && next.pending.stable === 0 && canary.requests + stable.requests > 0;

  const bound = 1 / spec.alpha;
  const metrics: MetricStatus[] = [];
  const failures: Record<string, number> = { ...next.failures };
  for (const metric of spec.metrics) {
    const guard = guardOutcome(metric, next.guards[metric.name], spec.alpha, spec.minRequests);
    if (metric.builtin === "successRate") {
      const figures = errorFigures(canary, stable);
      metrics.push(
        withGuard(ratioStatus(metric, next, next.errors, bound, conclusive, figures), guard),
      );
    } else if (metric.builtin === "latencyP99") {
      metrics.push(
        withGuard(latencyStatus(metric, next, bound, conclusive, canary, stable), guard),
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

  const { verdict, message } = overall(spec, metrics, canary, stable, conclusive, next);
  return { verdict, message, metrics, conclusive, memory: next };
}

/** Adds one interval's evidence; intervals with too little traffic are pooled first. */
function foldInterval(
  spec: AnalysisSpec,
  memory: SequentialMemory,
  canary: IntervalCounts,
  stable: IntervalCounts,
): SequentialMemory {
  const errors = addInterval(
    noEvidence(),
    canary.requests,
    stable.requests,
    canary.errors,
    stable.errors,
  );
  let latency = noEvidence();
  if (memory.boundaryMs !== undefined) {
    const slowCanary = countAbove(canary.buckets, memory.boundaryMs, canary.observed);
    const slowStable = countAbove(stable.buckets, memory.boundaryMs, stable.observed);
    if (slowCanary !== undefined && slowStable !== undefined) {
      latency = addInterval(latency, canary.observed, stable.observed, slowCanary, slowStable);
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

interface Figures {
  canary?: number | undefined;
  stable?: number | undefined;
  /** e.g. "success 97.5% vs stable 99.5%". */
  text: string;
  worse: string;
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
  };
}

function ratioStatus(
  metric: MetricSpec,
  memory: SequentialMemory,
  evidence: RatioEvidence,
  bound: number,
  conclusive: boolean,
  figures: Figures,
): MetricStatus {
  const logWorse = logEvidenceWorse(evidence);
  const logNoWorse = logEvidenceNoWorse(evidence);
  const logBound = Math.log(bound);
  const base = {
    name: metric.name,
    ...(figures.canary !== undefined ? { canary: round(figures.canary) } : {}),
    ...(figures.stable !== undefined ? { stable: round(figures.stable) } : {}),
    evidence: Number(Math.exp(Math.min(logWorse, 690)).toPrecision(4)),
    bound,
  };
  let verdict: Verdict = conclusive ? "Running" : "Inconclusive";
  let message = `${figures.text}; evidence ${formatEvidence(logWorse)} of ${bound} needed to roll back`;
  if (logWorse >= logBound) {
    verdict = "Failed";
    message = `${metric.name}: ${figures.worse} (${figures.text}; evidence ${formatEvidence(logWorse)} ≥ ${bound})`;
  } else if (memory.passed.includes(metric.name) || logNoWorse >= logBound) {
    verdict = "Passed";
    message = `${figures.text}; the canary is no worse than stable (evidence ${formatEvidence(logNoWorse)} ≥ ${bound})`;
  }
  return { ...base, verdict, message };
}

function latencyStatus(
  metric: MetricSpec,
  memory: SequentialMemory,
  bound: number,
  conclusive: boolean,
  canary: IntervalCounts,
  stable: IntervalCounts,
): MetricStatus {
  const c = p99Ms(canary);
  const s = p99Ms(stable);
  const p99 =
    c !== undefined && s !== undefined
      ? `P99 ${formatMs(c)} vs stable ${formatMs(s)}`
      : "no latencies";
  if (memory.boundaryMs === undefined) {
    return {
      name: metric.name,
      verdict: conclusive ? "Running" : "Inconclusive",
      ...(c !== undefined ? { canary: round(c) } : {}),
      ...(s !== undefined ? { stable: round(s) } : {}),
      message: `${p99}; waiting for ${REQUESTS_TO_CHOOSE_BOUNDARY} stable requests to fix a latency boundary near stable's P99`,
    };
  }
  return ratioStatus(metric, memory, memory.latency, bound, conclusive, {
    canary: c,
    stable: s,
    text: `${p99} in the last interval, judged on requests slower than ${memory.boundaryMs} ms`,
    worse: "the canary is slower than stable",
  });
}

function overall(
  spec: AnalysisSpec,
  metrics: readonly MetricStatus[],
  canary: IntervalCounts,
  stable: IntervalCounts,
  conclusive: boolean,
  memory: SequentialMemory,
): { verdict: Verdict; message: string } {
  const guard = catastrophe(canary, stable, spec.catastrophicErrorRate, spec.minRequests);
  if (guard !== undefined) return { verdict: "Failed", message: `Rolling back: ${guard}.` };
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
