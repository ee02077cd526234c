import type {
  Condition,
  HeaderMatch,
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
  workload?: { replicas: number } | undefined;
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
  /** Container images of its pod template, named in notifications. */
  images?: readonly string[] | undefined;
}

export interface ObservedRoutes {
  canaryWeight: number;
  headerRoutes: readonly string[];
  /** Why written routes do not take effect yet (e.g. an HTTPRoute's parents have not accepted it). */
  pending?: string | undefined;
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
  | { kind: "setServiceSelector"; service: string; role: Role; hash: string }
  | { kind: "setWeight"; canaryWeight: number }
  | { kind: "setHeaderRoute"; name: string; match: readonly HeaderMatch[] }
  | { kind: "removeHeaderRoute"; name: string };

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
