import type { MetricSpec, MetricStatus } from "../api/rollout.ts";
import type { MetricsSample } from "./judge.ts";

/**
 * Custom (MetricTemplate) metrics are absolute: a reading outside [min, max] is a failed
 * check. Failed checks are counted per metric; more than failureLimit of them fails the
 * analysis (Argo semantics: failureLimit 0 means the first failure). A query error or a
 * missing reading makes the metric inconclusive: missing data is not evidence.
 */

export type CustomCheck =
  | { outcome: "ok"; value: number }
  | { outcome: "breach"; value: number; reason: string }
  | { outcome: "noData"; reason: string };

export function checkCustomMetric(metric: MetricSpec, sample: MetricsSample): CustomCheck {
  const reading = sample.custom?.[metric.name];
  if (reading === undefined) return { outcome: "noData", reason: `${metric.name}: no reading` };
  if (typeof reading !== "number")
    return { outcome: "noData", reason: `${metric.name}: ${reading.error}` };
  if (!Number.isFinite(reading))
    return { outcome: "noData", reason: `${metric.name}: the query returned ${reading}` };
  if (metric.min !== undefined && reading < metric.min) {
    return {
      outcome: "breach",
      value: reading,
      reason: `${metric.name} is ${reading}, below the minimum ${metric.min}`,
    };
  }
  if (metric.max !== undefined && reading > metric.max) {
    return {
      outcome: "breach",
      value: reading,
      reason: `${metric.name} is ${reading}, above the maximum ${metric.max}`,
    };
  }
  return { outcome: "ok", value: reading };
}

/**
 * Folds one custom reading: the new failure count and the metric's status.
 * `failures` is the count before this reading.
 */
export function judgeCustomMetric(
  metric: MetricSpec,
  sample: MetricsSample,
  failures: number,
  failureLimit: number,
): { failures: number; status: MetricStatus } {
  const check = checkCustomMetric(metric, sample);
  switch (check.outcome) {
    case "noData":
      return {
        failures,
        status: { name: metric.name, verdict: "Inconclusive", message: check.reason },
      };
    case "ok":
      return { failures, status: { name: metric.name, verdict: "Running", canary: check.value } };
    case "breach": {
      const total = failures + 1;
      const failed = total > failureLimit;
      return {
        failures: total,
        status: {
          name: metric.name,
          verdict: failed ? "Failed" : "Running",
          canary: check.value,
          message: `${check.reason} (failed check ${total}; ${failureLimit} tolerated)`,
        },
      };
    }
  }
}

/** Reads a per-metric failure count map back from memory. */
export function readFailureCounts(x: unknown): Record<string, number> {
  const counts: Record<string, number> = {};
  if (typeof x !== "object" || x === null) return counts;
  for (const [name, value] of Object.entries(x as Record<string, unknown>)) {
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) counts[name] = value;
  }
  return counts;
}
