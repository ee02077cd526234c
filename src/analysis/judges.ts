import type { AnalysisSpec } from "../api/rollout.ts";
import type { Judge } from "./judge.ts";
import { sequentialJudge } from "./sequential.ts";
import { thresholdJudge } from "./threshold.ts";

/** The judge an AnalysisSpec names (`spec.judge`). */
export function judgeFor(name: AnalysisSpec["judge"]): Judge {
  switch (name) {
    case "sequential":
      return sequentialJudge;
    case "threshold":
      return thresholdJudge;
  }
}
