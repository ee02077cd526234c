import type { AnalysisSpec, AnalysisStatus } from "../api/rollout.ts";
import { durationMs } from "../api/duration.ts";
import { judgeFor } from "../analysis/judges.ts";
import type { MetricsSample } from "../analysis/judge.ts";
import { ms } from "./clock.ts";

/** Whether analysis wants a fresh metrics reading at `now` (adapters ask before querying Prometheus). */
export function analysisDue(
  spec: AnalysisSpec,
  status: AnalysisStatus | undefined,
  now: number,
): boolean {
  const last = ms(status?.lastSampleAt);
  return last === undefined || now - last >= durationMs(spec.interval);
}

/** When the next reading is due, for requeueAfter. */
export function nextSampleAt(
  spec: AnalysisSpec,
  status: AnalysisStatus | undefined,
  now: number,
): number {
  const last = ms(status?.lastSampleAt);
  return last === undefined ? now : last + durationMs(spec.interval);
}

export function freshAnalysis(nowIso: string): AnalysisStatus {
  return { verdict: "Running", startedAt: nowIso, conclusiveSeconds: 0, samples: 0, metrics: [] };
}

/**
 * Folds one reading into the analysis status through the configured judge.
 * A Failed verdict is final for this analysis; the caller rolls back.
 */
export function foldSample(
  spec: AnalysisSpec,
  status: AnalysisStatus,
  sample: MetricsSample,
): AnalysisStatus {
  if (status.verdict === "Failed") return status;
  // A reading taken before this analysis began belongs to another test.
  if ((ms(sample.at) ?? 0) < (ms(status.startedAt) ?? 0)) return status;
  const judgement = judgeFor(spec.judge).judge(spec, status.judge, sample);
  const last = ms(status.lastSampleAt);
  const at = ms(sample.at);
  // One reading is one interval of evidence, however long the gap before it (Prometheus
  // away, a controller restart): the judge caps what one interval can add, so a reading
  // after a gap must not also count the whole gap toward an analysis step's duration.
  const elapsed =
    last !== undefined && at !== undefined
      ? Math.min(Math.max(0, (at - last) / 1000), durationMs(spec.interval) / 1000)
      : 0;
  return {
    ...status,
    verdict: judgement.verdict,
    message: judgement.message,
    metrics: judgement.metrics,
    judge: judgement.memory,
    samples: status.samples + 1,
    lastSampleAt: sample.at,
    conclusiveSeconds: status.conclusiveSeconds + (judgement.conclusive ? elapsed : 0),
  };
}
