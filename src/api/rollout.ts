import { z } from "zod";
import { exactlyOne, LabelSelector, MAX_ROLLOUT_NAME, Name, Opaque } from "./schema-parts.ts";
import { Notifications } from "./notifications.ts";
import { Strategy } from "./strategy.ts";
import { Seconds } from "./duration.ts";
import { MAX_REPLICAS } from "./limits.ts";
import { RolloutStatus } from "./status.ts";

/**
 * The Rollout API (aviary.dev/v1alpha1). These schemas are the single source of truth:
 * TypeScript types are inferred from them and crds/ is generated from them.
 * The parts live beside this file, one concept each; this module re-exports them.
 */
export * from "./schema-parts.ts";
export * from "./traffic-routing.ts";
export * from "./analysis-spec.ts";
export * from "./strategy.ts";
export * from "./status.ts";
export * from "./notifications.ts";
export * from "./notification-status.ts";

export const WorkloadRef = z.object({
  apiVersion: z.string().default("apps/v1"),
  kind: z.literal("Deployment").default("Deployment"),
  name: Name,
});

export const RolloutSpec = z
  .object({
    replicas: z.int().min(0).max(MAX_REPLICAS).default(1),
    selector: LabelSelector,
    template: Opaque.optional(),
    workloadRef: WorkloadRef.optional(),
    revisionHistoryLimit: z.int().min(0).max(100).default(2),
    progressDeadlineSeconds: Seconds.min(1).default(600),
    /** When the deadline passes: abort (roll back) or only report Degraded. */
    progressDeadlineAbort: z.boolean().default(true),
    strategy: Strategy,
    notifications: Notifications.optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(
        ["template", "workloadRef"],
        "set exactly one of spec.template or spec.workloadRef",
      ),
    ],
  });

export const ObjectMeta = z.looseObject({
  name: Name,
  namespace: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  /** Set by the API server once deletion was asked for; finalizers hold the object until then. */
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
});

/** A Rollout's name is also a label value (aviary.dev/rollout on its ReplicaSets and pods). */
export const RolloutMeta = ObjectMeta.extend({ name: Name.max(MAX_ROLLOUT_NAME) });

export const Rollout = z.object({
  apiVersion: z.literal("aviary.dev/v1alpha1"),
  kind: z.literal("Rollout"),
  metadata: RolloutMeta,
  spec: RolloutSpec,
  status: RolloutStatus.optional(),
});

export type Rollout = z.output<typeof Rollout>;
export type RolloutInput = z.input<typeof Rollout>;
export type RolloutSpec = z.output<typeof RolloutSpec>;

export const GROUP = "aviary.dev";
export const VERSION = "v1alpha1";
export const ROLLOUT_PLURAL = "rollouts";
