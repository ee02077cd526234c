import type {
  Condition,
  HeaderMatch,
  ManagedTraffic,
  NotificationKind,
  NotificationTarget,
  RolloutStatus,
} from "../api/rollout.ts";
import type { MetricsSample } from "../analysis/judge.ts";

/** What the adapters saw, handed to decide(). Plain data; no clients. */
export interface Observed {
  /** Hash of the desired pod template (spec.template, or the referenced Deployment's). */
  templateHash: string;
  /** ReplicaSets owned by this Rollout, by pod-template hash. */
  replicaSets: readonly ObservedReplicaSet[];
  /** Which pod-template hash each role's Service (or DestinationRule subset) selects now. */
  selectors?: { stable?: string | undefined; canary?: string | undefined } | undefined;
  /** What the traffic router currently routes, when the Rollout uses traffic routing. */
  routes?: ObservedRoutes | undefined;
  /** A metrics reading taken for this reconcile (only when analysis asked for one). */
  metrics?: MetricsSample | undefined;
  /** With spec.workloadRef: the referenced Deployment's replica count. */
  workload?: { replicas: number; availableReplicas?: number | undefined } | undefined;
  /** Labels of the desired pod template (spec.template's, or the referenced Deployment's). */
  podLabels?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Every label each role's selector asks for (a Service's selector, or a DestinationRule
   * subset's labels), not only the hash: a selector the pods cannot match selects nothing.
   */
  selectorLabels?:
    { stable?: ObservedSelector | undefined; canary?: ObservedSelector | undefined } | undefined;
  /** What selectors, routes and claims were read through: the spec's objects, or status.managed. */
  managed?: ManagedTraffic | undefined;
  /** Who holds each part of what this Rollout would manage (routes, subsets, Services). */
  claims?: readonly ObservedClaim[] | undefined;
  /** Problems found while observing that the spec alone cannot show (missing objects...). */
  problems?: readonly Problem[] | undefined;
  /** Container images of the desired template, named in notifications. */
  templateImages?: readonly string[] | undefined;
  /** Notification targets the controller has a default URL for (used by Rollouts without their own). */
  notifyDefaults?: NotifyDefaults | undefined;
}

export type NotifyDefaults = Partial<Record<NotificationTarget, boolean>>;

export interface ObservedReplicaSet {
  hash: string;
  replicas: number;
  availableReplicas: number;
  /** RFC 3339 creation time, to keep the newest ones within revisionHistoryLimit. */
  createdAt?: string | undefined;
  /** Why the ReplicaSet cannot create its pods (its ReplicaFailure condition), if it cannot. */
  failure?: string | undefined;
  /** Container images of its pod template, named in notifications. */
  images?: readonly string[] | undefined;
}

/** A selector Aviary narrows to one version's pods. */
export interface ObservedSelector {
  /** e.g. `Service api-stable`, `subset v1 of DestinationRule api-dr`. */
  what: string;
  /** The Rollout field that names it. */
  field: string;
  labels: Readonly<Record<string, string>>;
}

/** One part of a Service or routing object, and which Rollout (if any) manages it. */
export interface ObservedClaim {
  /** e.g. `Service api-stable`, `route "primary" of VirtualService api-vs`. */
  what: string;
  /** The Rollout field that names it. */
  field: string;
  /** The Rollout (same namespace) whose annotation claims it; undefined when unclaimed. */
  owner?: string | undefined;
  /** Whether that owner still exists: the claim of a Rollout that is gone is free to take. */
  ownerExists?: boolean | undefined;
}

export interface ObservedRoutes {
  canaryWeight: number;
  headerRoutes: readonly string[];
  /** Why written routes do not take effect yet (e.g. an HTTPRoute's parents have not accepted it). */
  pending?: string | undefined;
  /**
   * Weight of destinations other than stable and canary in the managed routes (a person's
   * third destination). Aviary keeps it, so stable and canary share the rest.
   */
  fixedWeight?: number | undefined;
  /** Where the fixed weight goes, for messages. */
  fixedWeightTo?: string | undefined;
}

export interface Problem {
  /** The field or object at fault, e.g. "spec.strategy.canary.trafficRouting.istio.virtualService.name". */
  path: string;
  message: string;
}

export type Role = "stable" | "canary";

export type Action =
  /** Create the ReplicaSet for `hash` if missing, and scale it to `replicas`. */
  | { kind: "scaleReplicaSet"; hash: string; replicas: number; role: Role }
  | { kind: "deleteReplicaSet"; hash: string }
  /** spec.workloadRef: scale the referenced Deployment (to 0 once Aviary's stable pods serve). */
  | { kind: "scaleWorkload"; replicas: number }
  /** Point a Service (or a DestinationRule subset, for subset-level routing) at pods of `hash`. */
  | { kind: "setServiceSelector"; service: string | undefined; role: Role; hash: string }
  | { kind: "setWeight"; canaryWeight: number }
  | { kind: "setHeaderRoute"; name: string; match: readonly HeaderMatch[] }
  | { kind: "removeHeaderRoute"; name: string }
  /** Marks what `managed` names as this Rollout's (one owner per route, subset and Service). */
  | { kind: "claim"; managed: ManagedTraffic }
  /** Removes this Rollout's marks from what `managed` names. */
  | { kind: "release"; managed: ManagedTraffic }
  /** Deletion: Services and subsets select by the person's own labels again (Aviary's hash label removed). */
  | { kind: "restoreSelectors"; managed: ManagedTraffic }
  /**
   * A routing object the Rollout no longer points at: all weight back to stable and
   * Aviary's header routes (`headerRoutes`) removed. Best effort: a failure is a Warning
   * Event, not a stuck Rollout, since the object may be gone or no longer Aviary's to edit.
   */
  | { kind: "resetRouting"; managed: ManagedTraffic; headerRoutes: readonly string[] }
  /** Adds or removes Aviary's finalizer on the Rollout. */
  | { kind: "setFinalizer"; present: boolean };

export type { NotificationKind };

/**
 * A release event to tell people about. Notifications are not actions: decide() records
 * them as pending in status.notifications (the outbox, core/outbox.ts), in the same
 * status write as the transition, and delivery runs beside reconciling.
 */
export interface Notification {
  /** Stable id: the same event seen again after a restart has the same id. */
  id: string;
  kind: NotificationKind;
  severity: "info" | "warn" | "error";
  title: string;
  message: string;
}

export interface KubeEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface Plan {
  status: RolloutStatus;
  /** Executed in order; an adapter stops at the first that fails. */
  actions: Action[];
  events: KubeEvent[];
  /** Seconds until decide() wants to run again even if nothing changes. */
  requeueAfter?: number | undefined;
}

export type { Condition };
