import { FINALIZER } from "../api/labels.ts";
import type { Decision } from "./context.ts";
import { ms } from "./clock.ts";
import { managedFromSpec, sameManaged, serviceNamesOf } from "./managed.ts";
import { select } from "./workload.ts";

/**
 * How long a deleted Rollout may take to put its traffic back before the finalizer lets
 * go anyway: deletion must never hang on a mesh object the API server will not let us fix.
 */
export const DELETION_GRACE_SECONDS = 300;

/**
 * A Rollout being deleted puts the mesh back as a person expects, then lets its finalizer
 * go: all weight to stable and Aviary's header routes removed (its ReplicaSets still run
 * until the finalizer is gone), a workloadRef Deployment scaled back up, the Services'
 * and subsets' selectors restored to the person's own labels, and the claims released.
 * Objects that are gone need nothing.
 */
export function finalizeDeletion(d: Decision, specValid: boolean): void {
  if (!(d.rollout.metadata.finalizers ?? []).includes(FINALIZER)) {
    d.phase("Progressing", "being deleted");
    return;
  }
  const st = d.status;
  const managed = st.managed ?? (specValid ? managedFromSpec(d.rollout) : undefined);
  const since = ms(d.rollout.metadata.deletionTimestamp) ?? d.now;
  const deadline = since + DELETION_GRACE_SECONDS * 1000;
  const waiting = managed === undefined ? undefined : putTrafficBack(d, managed, specValid);
  if (waiting !== undefined && d.now < deadline) {
    d.phase("Progressing", `being deleted: ${waiting}`);
    d.wakeAtMs(Math.min(d.now + 2_000, deadline));
    return;
  }
  if (waiting !== undefined)
    d.event(
      "Warning",
      "DeletionCleanupIncomplete",
      `gave up putting traffic back after ${DELETION_GRACE_SECONDS}s (${waiting}); the Rollout is deleted anyway, check its Services and routes`,
    );
  if (managed !== undefined) {
    d.act({ kind: "restoreSelectors", managed });
    d.act({ kind: "release", managed });
  }
  d.act({ kind: "setFinalizer", present: false });
  d.phase("Progressing", "being deleted: traffic is back on stable; letting go");
}

/** What is still in the way, or undefined once traffic is back where a person expects it. */
function putTrafficBack(
  d: Decision,
  managed: NonNullable<Decision["status"]["managed"]>,
  specValid: boolean,
): string | undefined {
  const st = d.status;
  // Nothing was observed through what we manage (e.g. objects renamed since): only let go.
  if (!sameManaged(d.observed.managed, managed)) return undefined;
  const routes = d.observed.routes;
  const stable = st.stableHash;
  if (routes !== undefined && (routes.canaryWeight > 0 || routes.headerRoutes.length > 0)) {
    // The stable side must serve the traffic it gets back.
    if (stable !== undefined && d.available(stable) > 0) {
      const services = serviceNamesOf(managed);
      if (!select(d, services, "stable", stable)) return "pointing the stable Service at stable";
    }
    d.weight(0);
    for (const name of routes.headerRoutes) d.act({ kind: "removeHeaderRoute", name });
    return "returning all traffic to stable";
  }
  // workloadRef: the Deployment Aviary took over serves again before the Services widen.
  const workload = d.observed.workload;
  if (d.rollout.spec.workloadRef !== undefined && workload !== undefined) {
    const wanted = specValid
      ? d.spec.replicas
      : (d.replicaSet(stable)?.replicas ?? workload.replicas);
    if (workload.replicas < wanted) d.act({ kind: "scaleWorkload", replicas: wanted });
    if ((workload.availableReplicas ?? 0) < wanted)
      return `waiting for Deployment ${d.rollout.spec.workloadRef.name}: ${workload.availableReplicas ?? 0}/${wanted} available`;
  }
  return undefined;
}
