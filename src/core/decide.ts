import type { Rollout, RolloutStatus } from "../api/rollout.ts";
import { Decision } from "./context.ts";
import { applyCommand } from "./commands.ts";
import { reconcileCanary } from "./canary.ts";
import { reconcileBlueGreen } from "./bluegreen.ts";
import { finalizeDeletion } from "./deletion.ts";
import { holdInvalidSpec } from "./invalid-spec.ts";
import { manageTraffic, ownershipProblems } from "./ownership.ts";
import type { Observed, Plan, Problem } from "./plan.ts";
import { bound } from "./text.ts";
import { trafficProblems } from "./traffic-checks.ts";
import { clearWriteFailure } from "./write-failure.ts";

/**
 * The release engine: every rule of a release, as a pure function of the Rollout (with
 * its status), what the adapters observed, and the time. No I/O, no clock.
 * `problems` are spec errors found by validation. With any (or with a part another
 * Rollout manages), nothing moves forward and the Rollout reports InvalidSpec; commands
 * still run, so an abort always puts traffic back. A Rollout being deleted puts the mesh
 * back before its finalizer lets go.
 */
export function decide(
  rollout: Rollout,
  observed: Observed,
  now: number,
  problems: readonly Problem[] = [],
): Plan {
  const d = new Decision(rollout, observed, now);
  const specValid = problems.length === 0;
  const invalid = [
    ...problems,
    ...(observed.problems ?? []),
    ...ownershipProblems(observed.claims, rollout.metadata.name),
    ...(specValid ? trafficProblems(rollout, observed) : []),
  ];
  clearWriteFailure(d.status);
  if (rollout.metadata.deletionTimestamp !== undefined) {
    finalizeDeletion(d, specValid);
  } else if (invalid.length > 0) {
    holdInvalidSpec(d, invalid);
  } else {
    d.status.conditions = d.status.conditions?.filter((c) => c.type !== "InvalidSpec");
    if (d.status.conditions?.length === 0) delete d.status.conditions;
    manageTraffic(d);
    applyCommand(d, true);
    const { canary, blueGreen } = rollout.spec.strategy;
    if (canary !== undefined) reconcileCanary(d, canary);
    else if (blueGreen !== undefined) reconcileBlueGreen(d, blueGreen);
  }
  d.status.observedGeneration = rollout.metadata.generation;
  boundMessages(d.status);
  return {
    status: d.status,
    actions: d.actions,
    events: d.events.map((e) => ({ ...e, message: bound(e.message) })),
    requeueAfter: d.requeueAfterSeconds(),
  };
}

function boundMessages(status: RolloutStatus): void {
  if (status.message !== undefined) status.message = bound(status.message);
  if (status.abortReason !== undefined) status.abortReason = bound(status.abortReason);
  if (status.commandResult !== undefined)
    status.commandResult = {
      ...status.commandResult,
      message: bound(status.commandResult.message),
    };
  if (status.conditions !== undefined)
    status.conditions = status.conditions.map((c) => ({ ...c, message: bound(c.message) }));
}
