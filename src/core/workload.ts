import type { Decision } from "./context.ts";
import type { Role } from "./plan.ts";
import { ms } from "./clock.ts";

/** The Services a strategy routes through, by role. */
export interface ServiceNames {
  /** Undefined with subset-level routing, where DestinationRule subsets select the versions. */
  stable: string | undefined;
  canary: string | undefined;
}

/** Points a role's Service at `hash` unless it already selects it. Returns whether it does now. */
export function select(d: Decision, services: ServiceNames, role: Role, hash: string): boolean {
  if (d.observed.selectors?.[role] === hash) return true;
  d.act({ kind: "setServiceSelector", service: services[role], role, hash });
  return false;
}

/** First revision of a Rollout: the template becomes stable at once; there is nothing to compare it with. */
export function firstDeploy(d: Decision, services: ServiceNames): void {
  const hash = d.observed.templateHash;
  d.status.stableHash = hash;
  // Nothing is left to step through: the first revision is complete, as after a promotion.
  d.status.currentStepIndex = d.spec.strategy.canary?.steps.length ?? 0;
  steady(d, services);
}

/** No release in progress: stable runs at full size and takes all traffic. */
export function steady(d: Decision, services: ServiceNames): void {
  const stable = d.status.stableHash ?? d.observed.templateHash;
  const replicas = d.spec.replicas;
  d.scale(stable, replicas, "stable");
  // Services narrow to these pods only once they all serve: a Service adopted from a
  // Deployment keeps its old endpoints until then.
  const ready = d.available(stable) >= replicas;
  const stableSelected = ready && select(d, services, "stable", stable);
  const canarySelected = ready && select(d, services, "canary", stable);
  const selected = stableSelected && canarySelected;
  if (selected) d.weight(0);
  for (const name of d.observed.routes?.headerRoutes ?? [])
    d.act({ kind: "removeHeaderRoute", name });
  d.status.canaryWeight = 0;
  d.status.headerRoutes = [];
  const available = d.available(stable);
  // Aviary took over the Deployment's pods: its own pods go once ours are all available.
  if (
    d.spec.workloadRef !== undefined &&
    available >= replicas &&
    (d.observed.workload?.replicas ?? 0) > 0
  ) {
    d.act({ kind: "scaleWorkload", replicas: 0 });
  }
  if (available >= replicas) {
    // The deadline clock restarts with the next wait, not from the last promotion.
    delete d.status.lastProgressAt;
    d.phase("Healthy", `${available}/${replicas} replicas of ${stable} available`);
    d.condition(
      "Available",
      "True",
      "AvailableReplicas",
      `${available}/${replicas} replicas available`,
    );
    d.condition("Progressing", "True", "RolloutHealthy", "the rollout is healthy");
  } else {
    waitForStable(d, stable, available, replicas);
  }
}

/**
 * Stable is not whole (a first deploy, or pods lost since): the wait counts toward
 * progressDeadlineSeconds, and why the ReplicaSet cannot create pods (quota, a refused
 * template) is in the message. There is nothing to roll back to, so the deadline only
 * reports Degraded.
 */
function waitForStable(d: Decision, stable: string, available: number, replicas: number): void {
  const failure = d.replicaSet(stable)?.failure;
  const waiting = `waiting for ${stable}: ${available}/${replicas} replicas available${failure === undefined ? "" : `; ${failure}`}`;
  d.condition(
    "Available",
    "False",
    "WaitingForReplicas",
    `${available}/${replicas} replicas available`,
  );
  d.status.lastProgressAt ??= d.nowIso;
  const since = ms(d.status.lastProgressAt) ?? d.now;
  const deadline = since + d.spec.progressDeadlineSeconds * 1000;
  if (d.now > deadline) {
    const reason = `progress deadline exceeded: no progress for ${Math.round((d.now - since) / 1000)}s (progressDeadlineSeconds ${d.spec.progressDeadlineSeconds}), ${waiting}`;
    d.phase("Degraded", reason);
    d.condition("Progressing", "False", "ProgressDeadlineExceeded", reason);
  } else {
    d.phase("Progressing", waiting);
    d.condition("Progressing", "True", "ReplicaSetUpdated", waiting);
    d.wakeAtMs(deadline + 1_000);
  }
  d.wakeAtMs(d.now + 5_000);
}

/**
 * Scales down ReplicaSets that are neither stable nor canary once their scale-down time
 * has come, and deletes the oldest empty ones beyond revisionHistoryLimit.
 */
export function retireOldReplicaSets(d: Decision): void {
  // Never scale down what a Service still sends traffic to, whatever the schedule says.
  const current = new Set([d.status.stableHash, d.status.canaryHash]);
  const selected = new Set([d.observed.selectors?.stable, d.observed.selectors?.canary]);
  const keep = new Set([...current, ...selected]);
  const schedule = (d.status.scaleDownAt ?? []).filter((entry) => !current.has(entry.hash));
  for (const rs of d.observed.replicaSets) {
    if (keep.has(rs.hash) || rs.replicas === 0) continue;
    const at = ms(schedule.find((entry) => entry.hash === rs.hash)?.at) ?? d.now;
    if (at <= d.now) d.act({ kind: "scaleReplicaSet", hash: rs.hash, replicas: 0, role: "canary" });
    else d.wakeAtMs(at);
  }
  const live = new Set(d.observed.replicaSets.filter((rs) => rs.replicas > 0).map((rs) => rs.hash));
  // A scheduled ReplicaSet that a Service still selects keeps its entry until it is free.
  d.status.scaleDownAt = schedule.filter(
    (entry) => live.has(entry.hash) && ((ms(entry.at) ?? 0) > d.now || selected.has(entry.hash)),
  );
  if (d.status.scaleDownAt.length === 0) delete d.status.scaleDownAt;

  const empty = d.observed.replicaSets
    .filter((rs) => !keep.has(rs.hash) && rs.replicas === 0)
    .sort((a, b) => (ms(b.createdAt) ?? 0) - (ms(a.createdAt) ?? 0));
  for (const rs of empty.slice(d.spec.revisionHistoryLimit))
    d.act({ kind: "deleteReplicaSet", hash: rs.hash });
}

/** Schedules the old stable ReplicaSet's scale-down after a promotion. */
export function scheduleScaleDown(d: Decision, hash: string, delaySeconds: number): void {
  const at = new Date(d.now + delaySeconds * 1000).toISOString();
  d.status.scaleDownAt = [
    ...(d.status.scaleDownAt ?? []).filter((e) => e.hash !== hash),
    { hash, at },
  ];
  d.wakeAtMs(d.now + delaySeconds * 1000);
}
