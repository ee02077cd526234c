import type { AnalysisSpec, MetricSpec, MetricStatus, Verdict } from "../api/rollout.ts";
import { judgeCustomMetric, readFailureCounts } from "./custom-metrics.ts";
import {
  catastrophe,
  formatMs,
  formatPercent,
  intervalCounts,
  p99Ms,
  readStoredCounters,
  successPercent,
  type IntervalCounts,
  type StoredCounters,
  usableReading,
} from "./interval.ts";
import type { Judge, JudgeMemory, Judgement, MetricsSample } from "./judge.ts";

/**
 * The threshold judge, for people who want Flagger/Argo semantics: each interval the
 * canary alone is checked against absolute limits (success rate ≥ min percent, P99 ≤ max
 * ms, custom metrics in [min, max]). Failed checks are counted per metric; more than
 * failureLimit of them fail the analysis (Argo: failureLimit 0 fails on the first).
 * Too little traffic is inconclusive, never a failure, unless `noDataIsFailure` asks for
 * Flagger's behaviour. It never passes early: the steps' durations decide promotion.
 */

export interface ThresholdOptions {
  /** Count an interval with no canary request as a failed check, like Flagger's "no values found". */
  noDataIsFailure?: boolean;
}

type ThresholdMemory = {
  judge: "threshold";
  last: { canary: StoredCounters; stable: StoredCounters };
  /** Failed checks so far, by metric name. */
  failures: Record<string, number>;
};

type Check =
  | { outcome: "ok" | "noData"; status: MetricStatus }
  | { outcome: "breach"; status: MetricStatus; reason: string };

export function createThresholdJudge(options: ThresholdOptions = {}): Judge {
  const noDataIsFailure = options.noDataIsFailure ?? false;

  function judge(
    spec: AnalysisSpec,
    memory: JudgeMemory | undefined,
    sample: MetricsSample,
  ): Judgement {
    const reading = usableReading(spec, memory, sample);
    if (!reading.ok) return reading.judgement;
    const last = reading.last;
    const previous = readThresholdMemory(memory);
    if (!previous) {
      const fresh: ThresholdMemory = { judge: "threshold", last, failures: {} };
      return {
        verdict: "Running",
        message: "First reading taken as the baseline; checks start with the next interval.",
        metrics: spec.metrics.map((m) => ({ name: m.name, verdict: "Running" })),
        conclusive: false,
        memory: fresh,
      };
    }
    const canary = intervalCounts(last.canary, previous.last.canary);
    const stable = intervalCounts(last.stable, previous.last.stable);
    const enoughTraffic = canary.requests >= Math.max(1, spec.minRequests);
    const failures = { ...previous.failures };

    const metrics: MetricStatus[] = [];
    const breaches: string[] = [];
    for (const metric of spec.metrics) {
      if (metric.builtin === undefined) {
        const judged = judgeCustomMetric(
          metric,
          sample,
          failures[metric.name] ?? 0,
          spec.failureLimit,
        );
        failures[metric.name] = judged.failures;
        if (
          judged.status.verdict === "Failed" ||
          judged.failures > (previous.failures[metric.name] ?? 0)
        ) {
          breaches.push(judged.status.message ?? metric.name);
        }
        metrics.push(judged.status);
        continue;
      }
      const check = builtinCheck(metric, canary, stable, enoughTraffic);
      const noValues = noDataIsFailure && canary.requests === 0;
      if (check.outcome === "breach" || noValues) {
        const count = (failures[metric.name] ?? 0) + 1;
        failures[metric.name] = count;
        const reason =
          check.outcome === "breach"
            ? check.reason
            : `${metric.name}: no values found (the canary received 0 requests)`;
        breaches.push(`${reason} (failed check ${count}; ${spec.failureLimit} tolerated)`);
        metrics.push({
          ...check.status,
          verdict: count > spec.failureLimit ? "Failed" : "Running",
          message: reason,
        });
      } else {
        metrics.push(check.status);
      }
    }
    const next: ThresholdMemory = { judge: "threshold", last, failures };
    const done = (verdict: Verdict, message: string, conclusive = true): Judgement => ({
      verdict,
      message,
      metrics,
      conclusive,
      memory: next,
    });

    const guard = catastrophe(canary, stable, spec.catastrophicErrorRate, spec.minRequests);
    if (guard !== undefined) return done("Failed", `Rolling back: ${guard}.`);
    const failed = metrics.find((m) => m.verdict === "Failed");
    if (failed) return done("Failed", `Rolling back: ${breaches.join("; ")}.`);
    if (breaches.length > 0) return done("Running", `Check failed: ${breaches.join("; ")}.`);
    if (!enoughTraffic) {
      const what =
        canary.requests === 0
          ? "no traffic: the canary received 0 requests"
          : `too little traffic: the canary received ${canary.requests} requests (needs ${spec.minRequests})`;
      return done("Inconclusive", `Analysis holds: ${what} in the last interval.`, false);
    }
    const unsure = metrics.find((m) => m.verdict === "Inconclusive");
    if (unsure) return done("Inconclusive", `Analysis holds: ${unsure.message ?? unsure.name}.`);
    return done(
      "Running",
      `Checks passed (${metrics.map((m) => `${m.name}: ${m.message ?? "ok"}`).join("; ")}).`,
    );
  }

  return { judge };
}

/** The threshold judge with Aviary's defaults: per-interval checks, no data is inconclusive. */
export const thresholdJudge: Judge = createThresholdJudge();

function builtinCheck(
  metric: MetricSpec,
  canary: IntervalCounts,
  stable: IntervalCounts,
  enoughTraffic: boolean,
): Check {
  const isSuccess = metric.builtin === "successRate";
  const value = isSuccess ? successPercent(canary) : p99Ms(canary);
  const reference = isSuccess ? successPercent(stable) : p99Ms(stable);
  const show = (x: number) => (isSuccess ? formatPercent(x) : formatMs(x));
  const unit = isSuccess ? "%" : " ms";
  const label = isSuccess ? "success rate" : "P99";
  const figures = {
    name: metric.name,
    ...(value !== undefined ? { canary: Math.round(value * 1000) / 1000 } : {}),
    ...(reference !== undefined ? { stable: Math.round(reference * 1000) / 1000 } : {}),
  };
  if (!enoughTraffic || value === undefined) {
    return {
      outcome: "noData",
      status: { ...figures, verdict: "Inconclusive", message: `${metric.name}: no data` },
    };
  }
  let reason: string | undefined;
  if (metric.min !== undefined && value < metric.min)
    reason = `canary ${label} ${show(value)} is below ${metric.min}${unit}`;
  if (metric.max !== undefined && value > metric.max)
    reason = `canary ${label} ${show(value)} is above ${metric.max}${unit}`;
  if (reason !== undefined)
    return {
      outcome: "breach",
      status: { ...figures, verdict: "Running" },
      reason: `${metric.name}: ${reason}`,
    };
  return {
    outcome: "ok",
    status: { ...figures, verdict: "Running", message: `canary ${label} ${show(value)}` },
  };
}

function readThresholdMemory(memory: JudgeMemory | undefined): ThresholdMemory | undefined {
  if (memory?.judge !== "threshold") return undefined;
  const last = memory.last as Record<string, unknown> | undefined;
  const canary = readStoredCounters(last?.canary);
  const stable = readStoredCounters(last?.stable);
  if (!canary || !stable) return undefined;
  return {
    judge: "threshold",
    last: { canary, stable },
    failures: readFailureCounts(memory.failures),
  };
}
