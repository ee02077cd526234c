import type { Decision } from "./context.ts";
import { freshAnalysis } from "./analysis.ts";
import { ms } from "./clock.ts";
import { scheduleScaleDown, select, steady, type ServiceNames } from "./workload.ts";
import { startReleaseOutbox } from "./outbox.ts";

/** Begins a release of the current template (or restarts it after the template changed mid-release). */
export function startRelease(d: Decision, hash: string, abortScaleDownDelaySeconds: number): void {
  const st = d.status;
  const previousCanary = st.canaryHash;
  if (previousCanary !== undefined && previousCanary !== st.stableHash) {
    // The replaced canary leaves once no Service selects it (retireOldReplicaSets checks that).
    const at = new Date(d.now + abortScaleDownDelaySeconds * 1000).toISOString();
    st.scaleDownAt = [
      ...(st.scaleDownAt ?? []).filter((e) => e.hash !== previousCanary),
      { hash: previousCanary, at },
    ];
  }
  // Routes of a replaced release must not carry over to the new one.
  for (const name of d.observed.routes?.headerRoutes ?? [])
    d.act({ kind: "removeHeaderRoute", name });
  st.headerRoutes = [];
  st.canaryHash = hash;
  st.currentStepIndex = 0;
  st.stepStartedAt = d.nowIso;
  st.lastProgressAt = d.nowIso;
  st.analysis = freshAnalysis(d.nowIso);
  st.stepAnalysisBaseSeconds = 0;
  startReleaseOutbox(st);
  delete st.abortedAt;
  delete st.abortReason;
  delete st.promoteFull;
  delete st.canaryScale;
  delete st.previewReadyAt;
  delete st.promotedAt;
  d.event(
    "Normal",
    "ReleaseStarted",
    `release of ${hash} started (stable is ${st.stableHash ?? "none"})`,
  );
  d.notify({
    id: `${hash}:started`,
    kind: "started",
    severity: "info",
    title: `Release of ${d.rollout.metadata.name} started`,
    message: `New version ${hash} is starting beside stable ${st.stableHash ?? "none"}.`,
  });
}

/**
 * Marks the release aborted. `degraded` is for automatic rollbacks (analysis, deadline);
 * `deadline` says the progress deadline was the cause, which people are told as such.
 */
export function abort(d: Decision, reason: string, degraded: boolean, deadline = false): void {
  const st = d.status;
  st.abortedAt = d.nowIso;
  st.abortReason = reason;
  d.event("Warning", degraded ? "RolledBack" : "Aborted", reason);
  d.condition("Progressing", "False", degraded ? "RolledBack" : "RolloutAborted", reason);
  const kind = deadline ? "progressDeadlineExceeded" : degraded ? "rolledBack" : "aborted";
  const name = d.rollout.metadata.name;
  d.notify({
    id: `${st.canaryHash ?? "none"}:${kind}:${d.nowIso}`,
    kind,
    severity: "error",
    title:
      kind === "aborted"
        ? `${name} aborted and rolled back`
        : kind === "progressDeadlineExceeded"
          ? `${name} rolled back: progress deadline exceeded`
          : `${name} rolled back`,
    message: reason,
  });
}

/** The progress deadline passed and the release stays where it is (progressDeadlineAbort: false). */
export function notifyDeadlineExceeded(d: Decision, reason: string): void {
  d.notify({
    id: `${d.status.canaryHash ?? "none"}:progressDeadlineExceeded:${d.status.lastProgressAt ?? ""}`,
    kind: "progressDeadlineExceeded",
    severity: "warn",
    title: `${d.rollout.metadata.name}: progress deadline exceeded`,
    message: `${reason}. The release is not rolled back (progressDeadlineAbort is false).`,
  });
}

/**
 * Returns all traffic to stable, then scales the canary down after the abort delay.
 * Traffic first, always: the canary keeps its pods until the router confirms 0% and no header route.
 * Returns true when traffic is fully back on stable.
 */
export function returnTrafficToStable(
  d: Decision,
  services: ServiceNames,
  canaryHash: string,
  scaleDownDelaySeconds: number,
  since: number,
  /** Stable's size; undefined leaves it as it is (the spec that says it may be invalid). */
  stableReplicas: number | undefined = d.spec.replicas,
): boolean {
  const st = d.status;
  const stable = st.stableHash;
  if (stable === undefined) return true;
  // Nothing queued earlier in this plan may send the canary traffic any more.
  d.dropActions(
    (a) => a.kind === "setHeaderRoute" || (a.kind === "setWeight" && a.canaryWeight > 0),
  );
  if (stableReplicas !== undefined) d.scale(stable, stableReplicas, "stable");
  const stableSize = stableReplicas ?? d.replicaSet(stable)?.replicas ?? 0;
  const stableSelected = select(d, services, "stable", stable);
  if (stableSelected) d.weight(0);
  const routed = d.observed.routes?.headerRoutes ?? [];
  for (const name of routed) d.act({ kind: "removeHeaderRoute", name });
  st.headerRoutes = [...routed];
  st.canaryWeight = d.observed.routes?.canaryWeight ?? 0;

  const trafficBack = !stableSelected
    ? false
    : d.observed.routes === undefined
      ? d.available(stable) >= stableSize
      : d.observed.routes.canaryWeight === 0 && routed.length === 0;
  if (!trafficBack) {
    d.wakeAtMs(d.now + 1_000);
    return false;
  }
  const scaleDownAt = since + scaleDownDelaySeconds * 1000;
  if (d.now >= scaleDownAt) {
    d.scale(canaryHash, 0, "canary");
    // The canary Service follows stable again, so it never points at pods that are gone.
    select(d, services, "canary", stable);
  } else {
    d.wakeAtMs(scaleDownAt);
  }
  return true;
}

/** The new version becomes stable: the old one is scheduled to leave, people are told once. */
export function completePromotion(
  d: Decision,
  services: ServiceNames,
  hash: string,
  scaleDownDelaySeconds: number,
): void {
  const st = d.status;
  const old = st.stableHash;
  // Told before the hashes move, so the message shows old -> new.
  d.notify({
    id: `${hash}:promoted`,
    kind: "promoted",
    severity: "info",
    title: `${d.rollout.metadata.name} promoted`,
    message: `Version ${hash} is now stable${old !== undefined ? ` (was ${old})` : ""}.`,
  });
  if (old !== undefined && old !== hash) scheduleScaleDown(d, old, scaleDownDelaySeconds);
  st.stableHash = hash;
  st.lastProgressAt = d.nowIso;
  delete st.canaryHash;
  delete st.promoteFull;
  delete st.promoteRequested;
  delete st.canaryScale;
  d.event("Normal", "Promoted", `${hash} promoted to stable`);
  steady(d, services);
}

export function abortedAtMs(d: Decision): number {
  return ms(d.status.abortedAt) ?? d.now;
}
