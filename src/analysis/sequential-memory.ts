import { readGuards, type GuardMemories } from "./absolute-guard.ts";
import { readFailureCounts } from "./custom-metrics.ts";
import { freshDispersion, readDispersion, type DispersionState } from "./dispersion.ts";
import { readStoredCounters, type StoredCounters } from "./interval.ts";
import { noEvidence, readEvidence, type RatioEvidence } from "./mixture.ts";

/** Stable requests needed before the latency boundary is chosen (1% of them is then ≥ 2 requests). */
export const REQUESTS_TO_CHOOSE_BOUNDARY = 200;

/**
 * What the sequential judge keeps in the Rollout's status between readings: the
 * evidence so far (as logs) and the last counter readings. Plain JSON with finite
 * numbers only, so a restarted controller continues the very same test.
 */
export type SequentialMemory = {
  judge: "sequential";
  last: { canary: StoredCounters; stable: StoredCounters };
  /** Evidence about the error-rate ratio. */
  errors: RatioEvidence;
  /** Evidence about the ratio of requests slower than `boundaryMs`. */
  latency: RatioEvidence;
  /**
   * The latency boundary in ms, fixed once chosen so the test stays valid; absent until then.
   * Never null: status is written as a JSON merge patch, where null deletes the key.
   */
  boundaryMs?: number | undefined;
  /** Stable's histogram so far ([le, count]) and its total, to choose the boundary. */
  stableSoFar: [number, number][];
  stableSoFarTotal: number;
  /** Evidence of intervals with too little traffic, held until each side has minRequests. */
  pending: { canary: number; stable: number; errors: RatioEvidence; latency: RatioEvidence };
  /** Metrics whose mirror test has passed; passing is final, like a rejection. */
  passed: string[];
  /** Failed checks of custom metrics, by metric name. */
  failures: Record<string, number>;
  /** Absolute guards on the built-ins' min/max, by metric name (absent in older memories). */
  guards: GuardMemories;
  /** Burst estimates of each stream (absent in older memories: they start fresh). */
  dispersion: { errors: DispersionState; latency: DispersionState };
  /** The discount each stream's evidence got in the last interval (1: none). */
  discounts: { errors: number; latency: number };
  /** Intervals judged so far (the catastrophic guard spends α over them). */
  intervals: number;
};

export function freshMemory(last: SequentialMemory["last"]): SequentialMemory {
  return {
    judge: "sequential",
    last,
    errors: noEvidence(),
    latency: noEvidence(),
    stableSoFar: [],
    stableSoFarTotal: 0,
    pending: { canary: 0, stable: 0, errors: noEvidence(), latency: noEvidence() },
    passed: [],
    failures: {},
    guards: {},
    dispersion: { errors: freshDispersion(), latency: freshDispersion() },
    discounts: { errors: 1, latency: 1 },
    intervals: 0,
  };
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;

/** Reads memory written by this judge; undefined when absent or not ours (a new test starts). */
export function readSequentialMemory(
  memory: Record<string, unknown> | undefined,
): SequentialMemory | undefined {
  if (memory?.judge !== "sequential") return undefined;
  const last = memory.last as Record<string, unknown> | undefined;
  const canary = readStoredCounters(last?.canary);
  const stable = readStoredCounters(last?.stable);
  const errors = readEvidence(memory.errors);
  const latency = readEvidence(memory.latency);
  const pending = memory.pending as Record<string, unknown> | undefined;
  const pendingErrors = readEvidence(pending?.errors);
  const pendingLatency = readEvidence(pending?.latency);
  const boundary = memory.boundaryMs;
  const stableSoFar = readPairs(memory.stableSoFar);
  const dispersion = memory.dispersion as Record<string, unknown> | undefined;
  const discounts = memory.discounts as Record<string, unknown> | undefined;
  if (
    !canary ||
    !stable ||
    !errors ||
    !latency ||
    !pendingErrors ||
    !pendingLatency ||
    !isCount(pending?.canary) ||
    !isCount(pending.stable) ||
    !(boundary === undefined || isCount(boundary)) ||
    !stableSoFar ||
    !isCount(memory.stableSoFarTotal)
  ) {
    return undefined;
  }
  return {
    judge: "sequential",
    last: { canary, stable },
    errors,
    latency,
    ...(boundary === undefined ? {} : { boundaryMs: boundary }),
    stableSoFar,
    stableSoFarTotal: memory.stableSoFarTotal,
    pending: {
      canary: pending.canary,
      stable: pending.stable,
      errors: pendingErrors,
      latency: pendingLatency,
    },
    passed: Array.isArray(memory.passed)
      ? memory.passed.filter((x): x is string => typeof x === "string")
      : [],
    failures: readFailureCounts(memory.failures),
    guards: readGuards(memory.guards),
    dispersion: {
      errors: readDispersion(dispersion?.errors),
      latency: readDispersion(dispersion?.latency),
    },
    discounts: { errors: readWeight(discounts?.errors), latency: readWeight(discounts?.latency) },
    intervals: isCount(memory.intervals) ? memory.intervals : 0,
  };
}

const readWeight = (x: unknown): number => (isCount(x) && x > 0 && x <= 1 ? x : 1);

function readPairs(x: unknown): [number, number][] | undefined {
  if (!Array.isArray(x)) return undefined;
  const pairs: [number, number][] = [];
  for (const pair of x as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    const [le, count] = pair as unknown[];
    if (typeof le !== "number" || !Number.isFinite(le) || !isCount(count)) return undefined;
    pairs.push([le, count]);
  }
  return pairs;
}
