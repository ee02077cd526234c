import type { Condition } from "../api/rollout.ts";

export type ConditionType =
  | "Available"
  | "Progressing"
  | "Paused"
  | "InvalidSpec"
  /** A write the plan needed was refused or failed; it is retried with backoff. */
  | "ReconcileError"
  | "NotificationFailed";

/**
 * Sets a condition, keeping lastTransitionTime when the status does not change
 * (Kubernetes convention: the time marks the last flip, not the last write).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
  status: Condition["status"],
  reason: string,
  message: string,
  nowIso: string,
): Condition[] {
  const existing = conditions?.find((c) => c.type === type);
  const lastTransitionTime = existing?.status === status ? existing.lastTransitionTime : nowIso;
  const next: Condition = { type, status, reason, message, lastTransitionTime };
  return [...(conditions ?? []).filter((c) => c.type !== type), next].sort((a, b) =>
    a.type.localeCompare(b.type),
  );
}
