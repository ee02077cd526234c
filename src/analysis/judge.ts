import type { AnalysisSpec, MetricStatus, Verdict } from "../api/rollout.ts";

/**
 * The seam between what Prometheus (or the simulator) measured and the release engine.
 * A judge is pure: it folds one sample into its state and returns a verdict. Its state
 * lives in the Rollout's status, so a restarted controller continues the same test.
 */

/** Cumulative counters for one version, as read at one instant (never rates). */
export interface VersionCounters {
  requests: number;
  errors: number;
  /** Cumulative latency histogram: requests that took at most `le` milliseconds. */
  latencyBuckets: readonly { le: number; count: number }[];
}

/** One reading of every metric of a Rollout, taken at `at`. */
export interface MetricsSample {
  /** RFC 3339 time of the reading. */
  at: string;
  canary?: VersionCounters | undefined;
  stable?: VersionCounters | undefined;
  /** Custom (MetricTemplate) metrics by metric name: a number, or why there is none. */
  custom?: Readonly<Record<string, number | { error: string }>> | undefined;
  /** Why no reading could be taken at all (Prometheus unreachable, garbage answer...). */
  error?: string | undefined;
}

export type JudgeMemory = Record<string, unknown>;

export interface Judgement {
  verdict: Verdict;
  /** One sentence a person understands: why this verdict. */
  message: string;
  metrics: MetricStatus[];
  /** Whether this interval had enough data to count as evidence. */
  conclusive: boolean;
  memory: JudgeMemory;
}

export interface Judge {
  judge(spec: AnalysisSpec, memory: JudgeMemory | undefined, sample: MetricsSample): Judgement;
}
