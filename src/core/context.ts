import type { Phase, Rollout, RolloutSpec, RolloutStatus } from "../api/rollout.ts";
import type {
  Action,
  KubeEvent,
  Notification,
  Observed,
  ObservedReplicaSet,
  Role,
} from "./plan.ts";
import { setCondition, type ConditionType } from "./conditions.ts";
import { iso } from "./clock.ts";
import { isKnown, recordPending, targetsFor } from "./outbox.ts";
import { notificationDetails } from "./notification-details.ts";

/**
 * The working state of one decide() call: the status being built and the actions,
 * events and wake-ups collected so far. Strategies write here; decide() returns it as a Plan.
 */
export class Decision {
  status: RolloutStatus;
  readonly actions: Action[] = [];
  readonly events: KubeEvent[] = [];
  private wakeAt: number[] = [];
  readonly nowIso: string;

  constructor(
    readonly rollout: Rollout,
    readonly observed: Observed,
    readonly now: number,
  ) {
    this.status = structuredClone(rollout.status ?? {});
    this.nowIso = iso(now);
  }

  get spec(): RolloutSpec {
    return this.rollout.spec;
  }

  replicaSet(hash: string | undefined): ObservedReplicaSet | undefined {
    return hash === undefined
      ? undefined
      : this.observed.replicaSets.find((rs) => rs.hash === hash);
  }

  available(hash: string | undefined): number {
    return this.replicaSet(hash)?.availableReplicas ?? 0;
  }

  act(action: Action): void {
    this.actions.push(action);
  }

  /** Withdraws queued actions, e.g. a step's traffic increase when the release is rolled back. */
  dropActions(matches: (action: Action) => boolean): void {
    for (let i = this.actions.length - 1; i >= 0; i--) {
      const action = this.actions[i];
      if (action !== undefined && matches(action)) this.actions.splice(i, 1);
    }
  }

  /**
   * Scales a ReplicaSet unless it already has that size; a later call for the same hash
   * wins. A ReplicaSet that does not exist is already at 0 (creating one to say so would
   * fail for a template the API server refuses, and hold up a rollback).
   */
  scale(hash: string, replicas: number, role: Role): void {
    const earlier = this.actions.findIndex((a) => a.kind === "scaleReplicaSet" && a.hash === hash);
    if (earlier >= 0) this.actions.splice(earlier, 1);
    const rs = this.replicaSet(hash);
    if (rs === undefined && replicas === 0) return;
    if (rs?.replicas !== replicas) this.act({ kind: "scaleReplicaSet", hash, replicas, role });
  }

  /** Sets the canary weight unless the router already routes exactly that. */
  weight(canaryWeight: number): void {
    const earlier = this.actions.findIndex((a) => a.kind === "setWeight");
    if (earlier >= 0) this.actions.splice(earlier, 1);
    if (this.observed.routes !== undefined && this.observed.routes.canaryWeight !== canaryWeight) {
      this.act({ kind: "setWeight", canaryWeight });
    }
  }

  event(type: KubeEvent["type"], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  /**
   * Records a notification as pending in the outbox (status.notifications), once per id,
   * for each target that wants its kind. It goes out with this plan's status write, so it
   * is stored together with the transition it reports; delivery happens beside reconciling.
   */
  notify(notification: Notification): void {
    if (isKnown(this.status.notifications, notification.id)) return;
    const targets = targetsFor(this.spec, this.observed.notifyDefaults, notification.kind);
    recordPending(this.status, {
      ...notification,
      at: this.nowIso,
      details: notificationDetails(this, notification),
      deliveries: targets.map((target) => ({ target, attempts: 0 })),
    });
  }

  condition(type: ConditionType, status: "True" | "False", reason: string, message: string): void {
    this.status.conditions = setCondition(
      this.status.conditions,
      type,
      status,
      reason,
      message,
      this.nowIso,
    );
  }

  phase(phase: Phase, message: string): void {
    this.status.phase = phase;
    this.status.message = message;
  }

  wakeAtMs(at: number | undefined): void {
    if (at !== undefined) this.wakeAt.push(at);
  }

  requeueAfterSeconds(): number | undefined {
    if (this.wakeAt.length === 0) return undefined;
    const soonest = Math.min(...this.wakeAt);
    return Math.max(1, Math.ceil((soonest - this.now) / 1000));
  }
}
