import type { AnalysisSpec, Rollout } from "../api/rollout.ts";
import { analysisDue } from "./analysis.ts";

/**
 * Which analysis wants a metrics reading now, if any. Adapters ask this before querying
 * Prometheus, so the query rate follows `interval`, not the reconcile rate.
 */
export function analysisToSample(
  rollout: Rollout,
  templateHash: string,
  now: number,
): AnalysisSpec | undefined {
  const st = rollout.status;
  if (st === undefined || st.abortedAt !== undefined || st.promoteFull === true) return undefined;
  if (
    st.canaryHash === undefined ||
    st.canaryHash !== templateHash ||
    st.canaryHash === st.stableHash
  )
    return undefined;
  const { canary, blueGreen } = rollout.spec.strategy;
  let spec: AnalysisSpec | undefined;
  if (canary !== undefined) spec = canary.analysis;
  else if (blueGreen !== undefined) {
    if (st.previewReadyAt === undefined) return undefined;
    spec =
      st.promotedAt === undefined
        ? blueGreen.prePromotionAnalysis
        : blueGreen.postPromotionAnalysis;
  }
  if (spec === undefined) return undefined;
  return analysisDue(spec, st.analysis, now) ? spec : undefined;
}
