import type { Rollout } from "../api/rollout.ts";
import { Decision } from "./context.ts";
import { applyCommand } from "./commands.ts";
import { reconcileCanary } from "./canary.ts";
import { reconcileBlueGreen } from "./bluegreen.ts";
import type { Observed, Plan, Problem } from "./plan.ts";

/**
 * The release engine: every rule of a release, as a pure function of the Rollout (with
 * its status), what the adapters observed, and the time. No I/O, no clock.
 * `problems` are spec errors found by validation; with any, nothing moves and the
 * Rollout reports InvalidSpec (a broken edit never disturbs traffic already flowing).
 */
export function decide(
  rollout: Rollout,
  observed: Observed,
  now: number,
  problems: readonly Problem[] = [],
): Plan {
  const d = new Decision(rollout, observed, now);
  const all = [...problems, ...(observed.problems ?? [])];
  if (all.length > 0) {
    const message = all.map((p) => `${p.path}: ${p.message}`).join("; ");
    d.condition("InvalidSpec", "True", "InvalidSpec", message);
    d.phase("Degraded", `invalid spec: ${message}`);
    d.event("Warning", "InvalidSpec", message);
    d.status.observedGeneration = rollout.metadata.generation;
    return { status: d.status, actions: [], events: d.events, requeueAfter: undefined };
  }
  d.status.conditions = d.status.conditions?.filter((c) => c.type !== "InvalidSpec");
  if (d.status.conditions?.length === 0) delete d.status.conditions;

  applyCommand(d);
  const { canary, blueGreen } = rollout.spec.strategy;
  if (canary !== undefined) reconcileCanary(d, canary);
  else if (blueGreen !== undefined) reconcileBlueGreen(d, blueGreen);
  d.status.observedGeneration = rollout.metadata.generation;
  return {
    status: d.status,
    actions: d.actions,
    events: d.events,
    requeueAfter: d.requeueAfterSeconds(),
  };
}
