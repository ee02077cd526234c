import type { Step } from "../api/rollout.ts";

/** The weight the canary is heading to at step `index`: the last setWeight at or before it. */
export function targetWeight(steps: readonly Step[], index: number): number {
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    const weight = steps[i]?.setWeight;
    if (weight !== undefined) return weight;
  }
  return 0;
}

/** Canary replicas for a weight: enough pods to serve that share, and at least one. */
export function canaryReplicasFor(
  replicas: number,
  weight: number,
  scale?: { replicas?: number | undefined; weight?: number | undefined },
): number {
  if (scale?.replicas !== undefined) return scale.replicas;
  const share = scale?.weight ?? weight;
  return Math.min(replicas, Math.max(1, Math.ceil((replicas * share) / 100)));
}

export function describeStep(step: Step | undefined): string {
  if (step === undefined) return "promotion";
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}`;
  if (step.pause !== undefined)
    return step.pause.duration === undefined ? "pause" : `pause ${step.pause.duration}`;
  if (step.analysis !== undefined)
    return `analysis${step.analysis.duration === undefined ? "" : ` ${step.analysis.duration}`}`;
  if (step.setHeaderRoute !== undefined) return `setHeaderRoute ${step.setHeaderRoute.name}`;
  if (step.setCanaryScale !== undefined) return "setCanaryScale";
  return "unknown step";
}

/**
 * One Event for the steps completed in one reconcile ("steps 3–4/6 completed (setWeight
 * 50; pause 30s)"), as it is one change of state: an Event each would be one more API
 * write per step for the same news (each step still has its own notification).
 */
export function stepsCompleted(steps: readonly Step[], completed: readonly number[]): string {
  const first = completed[0] ?? 0;
  const last = completed[completed.length - 1] ?? first;
  const described = completed.map((n) => describeStep(steps[n - 1])).join("; ");
  return first === last
    ? `step ${String(first)}/${String(steps.length)} completed (${described})`
    : `steps ${String(first)}–${String(last)}/${String(steps.length)} completed (${described})`;
}
