import type { AnalysisSpec, MetricSpec, MetricStatus, Verdict } from "../api/rollout.ts";
import type { GuardOutcome } from "./absolute-guard.ts";
import { describeDiscount } from "./dispersion.ts";
import {
  formatEvidence,
  formatMs,
  formatPercent,
  p99Ms,
  sharedOutage,
  successPercent,
  type IntervalCounts,
} from "./interval.ts";
import { logEvidenceNoWorse, type RatioEvidence } from "./mixture.ts";
import { REQUESTS_TO_CHOOSE_BOUNDARY, type SequentialMemory } from "./sequential-memory.ts";

/**
 * What the sequential judge says: each built-in metric's status and message from its test,
 * and the release's verdict from all of them. The figures are reported here; the
 * evidence is computed in sequential.ts.
 */

export interface MetricTest {
  metric: MetricSpec;
  comparison: RatioEvidence;
  /** Log of the metric's e-process: the weighted mean of its comparison and its guard. */
  logEvidence: number;
  /** Whether the comparison (rather than the guard) carries most of it. */
  comparisonLeads: boolean;
  guard?: GuardOutcome | undefined;
  discount: number;
}

export interface Figures {
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

export function errorFigures(canary: IntervalCounts, stable: IntervalCounts): Figures {
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

export function latencyFigures(
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

export function builtinStatus(
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

export function overall(
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

export function lowTraffic(
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
