import type { RolloutStatus } from "../api/rollout.ts";
import { setCondition } from "./conditions.ts";
import type { Action } from "./plan.ts";
import { bound } from "./text.ts";

/**
 * A write the plan needed failed (the API server refused a ReplicaSet, an admission
 * webhook refused a weight...). The status says so, in a sentence with the API server's
 * reason, and the phase tells the truth; the adapter retries with backoff. Pure: the
 * runtime calls it with the status the plan wanted and the status stored before.
 */
export function withWriteFailure(
  stored: RolloutStatus | undefined,
  planned: RolloutStatus,
  action: Exclude<Action, { kind: "notify" }>,
  reason: string,
  nowIso: string,
): RolloutStatus {
  const message = bound(`could not ${describeAction(action)}: ${reason}; retrying with backoff`);
  // The stored condition keeps its transition time, so a failure that repeats writes nothing new.
  const previous = stored?.conditions?.find((c) => c.type === "ReconcileError");
  const base = (planned.conditions ?? []).filter((c) => c.type !== "ReconcileError");
  const conditions = setCondition(
    previous === undefined ? base : [...base, previous],
    "ReconcileError",
    "True",
    "WriteFailed",
    message,
    nowIso,
  );
  return { ...planned, phase: "Degraded", message, conditions };
}

/** The reconcile wrote everything it wanted: an earlier failure is over. */
export function clearWriteFailure(status: RolloutStatus): void {
  status.conditions = status.conditions?.filter((c) => c.type !== "ReconcileError");
  if (status.conditions?.length === 0) delete status.conditions;
}

export function describeAction(action: Exclude<Action, { kind: "notify" }>): string {
  switch (action.kind) {
    case "scaleReplicaSet":
      return `scale the ${action.role} ReplicaSet (${action.hash}) to ${action.replicas}`;
    case "deleteReplicaSet":
      return `delete the old ReplicaSet ${action.hash}`;
    case "scaleWorkload":
      return `scale the referenced Deployment to ${action.replicas}`;
    case "setServiceSelector":
      return action.service === undefined
        ? `point the ${action.role} subset at ${action.hash}`
        : `point Service ${action.service} at ${action.hash}`;
    case "setWeight":
      return `set the canary weight to ${action.canaryWeight}%`;
    case "setHeaderRoute":
      return `add header route ${action.name}`;
    case "removeHeaderRoute":
      return `remove header route ${action.name}`;
    case "claim":
      return "mark the Services and routes as managed by this Rollout";
    case "release":
      return "remove this Rollout's marks from its Services and routes";
    case "restoreSelectors":
      return "restore the Services' and subsets' own selectors";
    case "resetRouting":
      return "put the traffic of a routing object this Rollout no longer names back on stable";
    case "setFinalizer":
      return action.present ? "add Aviary's finalizer" : "remove Aviary's finalizer";
  }
}
