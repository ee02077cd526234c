import { z } from "zod";
import { Duration } from "./duration.ts";

/**
 * The Rollout API (aviary.dev/v1alpha1). This file is the single source of truth:
 * TypeScript types are inferred from it and crds/ is generated from it.
 *
 * "Exactly one of" is written as optional siblings plus a CEL rule, because unions
 * become anyOf/oneOf with types inside, which the API server rejects as non-structural.
 */

const exactlyOne = (fields: string[], message: string) => ({
  rule: `[${fields.map((f) => `has(self.${f})`).join(", ")}].filter(x, x).size() == 1`,
  message,
});

const atMostOne = (fields: string[], message: string) => ({
  rule: `[${fields.map((f) => `has(self.${f})`).join(", ")}].filter(x, x).size() <= 1`,
  message,
});

const Name = z.string().min(1).max(253);
const Percent = z.int().min(0).max(100);

/** Arbitrary Kubernetes objects we pass through untouched (pod templates, selectors). */
const Opaque = z.record(z.string(), z.unknown()).meta({ "x-kubernetes-preserve-unknown-fields": true });

export const LabelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(Opaque).optional(),
});

export const ObjectRef = z.object({ name: Name });

export const SecretKeyRef = z.object({ name: Name, key: z.string().min(1) });

// ---------- traffic routing ----------

export const IstioVirtualServiceRef = z.object({
  name: Name,
  /** Names of the HTTP routes whose weights Aviary manages; may be omitted when the VirtualService has one route. */
  routes: z.array(z.string().min(1)).optional(),
});

export const IstioDestinationRuleRef = z
  .object({ name: Name, stableSubset: z.string().min(1).max(253), canarySubset: z.string().min(1).max(253) })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self.stableSubset != self.canarySubset",
        message: "stableSubset and canarySubset must name different subsets",
        fieldPath: ".canarySubset",
      },
    ],
  });

export const IstioRouting = z.object({
  virtualService: IstioVirtualServiceRef,
  /** Subset-level routing: Aviary rewrites the subsets' labels instead of two Services. */
  destinationRule: IstioDestinationRuleRef.optional(),
});

export const GatewayAPIRouting = z.object({
  httpRoute: z.object({ name: Name }),
});

export const TrafficRouting = z
  .object({ istio: IstioRouting.optional(), gatewayAPI: GatewayAPIRouting.optional() })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(["istio", "gatewayAPI"], "set exactly one of trafficRouting.istio or trafficRouting.gatewayAPI"),
    ],
  });

// ---------- analysis ----------

export const Mesh = z.enum(["istio", "linkerd", "gatewayapi"]);
export const JudgeName = z.enum(["sequential", "threshold"]);
export const BuiltinMetric = z.enum(["successRate", "latencyP99"]);

export const PrometheusSettings = z
  .object({
    address: z.url().optional(),
    timeout: Duration.optional(),
    /** A bearer token, read from a Secret in the Rollout's namespace. */
    bearerTokenSecretRef: SecretKeyRef.optional(),
    basicAuthSecretRef: z
      .object({ name: Name, usernameKey: z.string().min(1), passwordKey: z.string().min(1) })
      .optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      atMostOne(["bearerTokenSecretRef", "basicAuthSecretRef"], "set at most one of bearerTokenSecretRef or basicAuthSecretRef"),
    ],
  });

export const MetricSpec = z
  .object({
    name: z.string().min(1).max(63),
    builtin: BuiltinMetric.optional(),
    templateRef: ObjectRef.optional(),
    /** Lowest acceptable value (success rate in percent, or a custom metric). */
    min: z.number().optional(),
    /** Highest acceptable value (P99 in milliseconds, or a custom metric). */
    max: z.number().optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(["builtin", "templateRef"], "a metric sets exactly one of builtin or templateRef"),
    ],
  });

export const AnalysisSpec = z.object({
  mesh: Mesh.default("istio"),
  /** With mesh gatewayapi: which mesh's metrics to read (Linkerd and Istio both implement HTTPRoute). */
  metricsFrom: z.enum(["istio", "linkerd"]).optional(),
  prometheus: PrometheusSettings.optional(),
  interval: Duration.default("30s"),
  judge: JudgeName.default("sequential"),
  /** Sequential judge: the bound on the probability of a false rollback. */
  alpha: z.number().gt(0).lt(0.5).default(0.01),
  /** Requests each side needs in an interval before the interval counts as evidence. */
  minRequests: z.int().min(0).default(20),
  /** Threshold judge: failed intervals tolerated; one more rolls back (Argo semantics: 0 = first failure). */
  failureLimit: z.int().min(0).default(0),
  /** Error rate of the canary that rolls back at once, whatever the judge (percent). */
  catastrophicErrorRate: z.number().gt(0).max(100).default(20),
  metrics: z.array(MetricSpec).min(1).max(20).default([
    { name: "success-rate", builtin: "successRate", min: 99 },
    { name: "p99-latency", builtin: "latencyP99", max: 500 },
  ]),
});

// ---------- canary ----------

export const HeaderMatch = z
  .object({
    header: z.string().min(1),
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: z.string().optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(["exact", "prefix", "regex"], "a header match sets exactly one of exact, prefix or regex"),
    ],
  });

export const Step = z
  .object({
    setWeight: Percent.optional(),
    /** Without a duration the rollout waits for `aviary promote`. */
    pause: z.object({ duration: Duration.optional() }).optional(),
    /** Holds the step until analysis has run for `duration` with enough data and no failure, or passes early. */
    analysis: z.object({ duration: Duration.optional() }).optional(),
    setHeaderRoute: z
      .object({ name: z.string().min(1).max(63), match: z.array(HeaderMatch).min(1).max(10) })
      .optional(),
    setCanaryScale: z
      .object({
        replicas: z.int().min(0).optional(),
        weight: Percent.optional(),
        matchTrafficWeight: z.boolean().optional(),
      })
      .meta({
        "x-kubernetes-validations": [
          exactlyOne(
            ["replicas", "weight", "matchTrafficWeight"],
            "setCanaryScale sets exactly one of replicas, weight or matchTrafficWeight",
          ),
        ],
      })
      .optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(
        ["setWeight", "pause", "analysis", "setHeaderRoute", "setCanaryScale"],
        "a step sets exactly one of setWeight, pause, analysis, setHeaderRoute or setCanaryScale",
      ),
    ],
  });

export const PromotionWindow = z.object({
  /** A cron expression; steps advance only in minutes it matches. */
  schedule: z.string().min(1),
  timezone: z.string().min(1).default("UTC"),
});

export const CanaryStrategy = z
  .object({
    stableService: Name,
    canaryService: Name,
    trafficRouting: TrafficRouting.optional(),
    analysis: AnalysisSpec.optional(),
    // The bounds on lists keep the CEL rules that run over their items within the API server's cost budget.
    steps: z.array(Step).max(100).default([]),
    promotionWindows: z.array(PromotionWindow).max(10).optional(),
    /** Seconds the old stable ReplicaSet stays up after a promotion. */
    scaleDownDelaySeconds: z.int().min(0).default(30),
    /** Seconds the canary stays up after an abort, with no traffic. */
    abortScaleDownDelaySeconds: z.int().min(0).default(30),
  })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self.stableService != self.canaryService",
        message: "stableService and canaryService must name different Services",
        fieldPath: ".canaryService",
      },
      {
        rule: "has(self.trafficRouting) || !has(self.steps) || self.steps.all(s, !has(s.setHeaderRoute))",
        message: "setHeaderRoute steps need spec.strategy.canary.trafficRouting",
        fieldPath: ".steps",
      },
      {
        rule: "has(self.analysis) || !has(self.steps) || self.steps.all(s, !has(s.analysis))",
        message: "analysis steps need spec.strategy.canary.analysis",
        fieldPath: ".steps",
      },
    ],
  });

// ---------- blue/green ----------

export const PromotionAnalysis = AnalysisSpec.extend({ duration: Duration.default("5m") });

export const BlueGreenStrategy = z
  .object({
    activeService: Name,
    previewService: Name,
    trafficRouting: TrafficRouting.optional(),
    autoPromotionEnabled: z.boolean().default(true),
    /** Seconds after the preview is ready before it is promoted on its own. */
    autoPromotionSeconds: z.int().min(0).optional(),
    prePromotionAnalysis: PromotionAnalysis.optional(),
    postPromotionAnalysis: PromotionAnalysis.optional(),
    promotionWindows: z.array(PromotionWindow).max(10).optional(),
    scaleDownDelaySeconds: z.int().min(0).default(30),
    abortScaleDownDelaySeconds: z.int().min(0).default(30),
  })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self.activeService != self.previewService",
        message: "activeService and previewService must name different Services",
        fieldPath: ".previewService",
      },
    ],
  });

export const Strategy = z
  .object({ canary: CanaryStrategy.optional(), blueGreen: BlueGreenStrategy.optional() })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(["canary", "blueGreen"], "set exactly one strategy: spec.strategy.canary or spec.strategy.blueGreen"),
    ],
  });

export const Notifications = z.object({
  slack: z
    .object({
      webhookSecretRef: SecretKeyRef,
      channel: z.string().optional(),
    })
    .optional(),
});

export const WorkloadRef = z.object({
  apiVersion: z.string().default("apps/v1"),
  kind: z.literal("Deployment").default("Deployment"),
  name: Name,
});

export const RolloutSpec = z
  .object({
    replicas: z.int().min(0).default(1),
    selector: LabelSelector,
    template: Opaque.optional(),
    workloadRef: WorkloadRef.optional(),
    revisionHistoryLimit: z.int().min(0).default(2),
    progressDeadlineSeconds: z.int().min(1).default(600),
    /** When the deadline passes: abort (roll back) or only report Degraded. */
    progressDeadlineAbort: z.boolean().default(true),
    strategy: Strategy,
    notifications: Notifications.optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(["template", "workloadRef"], "set exactly one of spec.template or spec.workloadRef"),
    ],
  });

// ---------- status ----------

export const Phase = z.enum(["Progressing", "Paused", "Healthy", "Degraded", "Aborted"]);

export const CommandName = z.enum(["promote", "promoteFull", "abort", "retry", "pause", "resume"]);

export const Command = z.object({
  name: CommandName,
  id: z.string().min(1),
  requestedAt: z.string().optional(),
  requestedBy: z.string().optional(),
});

export const Condition = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.int().optional(),
});

export const Verdict = z.enum(["Running", "Passed", "Failed", "Inconclusive"]);

export const MetricStatus = z.object({
  name: z.string(),
  verdict: Verdict,
  canary: z.number().optional(),
  stable: z.number().optional(),
  /** Sequential judge: the evidence against the canary so far (mixture likelihood ratio). */
  evidence: z.number().optional(),
  /** The evidence at which the canary is rolled back (1/alpha). */
  bound: z.number().optional(),
  message: z.string().optional(),
});

/** The judge's memory, kept in status so a restarted controller continues the same test. */
export const JudgeState = z.record(z.string(), z.unknown()).meta({ "x-kubernetes-preserve-unknown-fields": true });

export const AnalysisStatus = z.object({
  verdict: Verdict,
  startedAt: z.string(),
  lastSampleAt: z.string().optional(),
  /** Time with sufficient data, counted toward analysis steps (seconds). */
  conclusiveSeconds: z.number().default(0),
  samples: z.int().default(0),
  message: z.string().optional(),
  metrics: z.array(MetricStatus).default([]),
  judge: JudgeState.optional(),
});

export const RolloutStatus = z.object({
  phase: Phase.optional(),
  message: z.string().optional(),
  observedGeneration: z.int().optional(),
  currentStepIndex: z.int().optional(),
  /** When the current step started (RFC 3339). */
  stepStartedAt: z.string().optional(),
  canaryWeight: z.int().optional(),
  stableHash: z.string().optional(),
  canaryHash: z.string().optional(),
  /** Header routes Aviary has added and must remove. */
  headerRoutes: z.array(z.string()).optional(),
  /** Canary replica override set by setCanaryScale. */
  canaryScale: z.object({ replicas: z.int().optional(), weight: z.int().optional() }).optional(),
  /** Set by `pause`, cleared by `resume`. */
  manualPause: z.boolean().optional(),
  /** Set by `promoteFull`: skip remaining steps and analysis. */
  promoteFull: z.boolean().optional(),
  /** Blue/green: set by `promote`, promotes the preview without waiting for auto-promotion. */
  promoteRequested: z.boolean().optional(),
  abortedAt: z.string().optional(),
  abortReason: z.string().optional(),
  /** Blue/green: when the preview became available, and when it was promoted. */
  previewReadyAt: z.string().optional(),
  promotedAt: z.string().optional(),
  /** Old ReplicaSets waiting to be scaled down, with the time they may go. */
  scaleDownAt: z.array(z.object({ hash: z.string(), at: z.string() })).optional(),
  lastProgressAt: z.string().optional(),
  /** Conclusive analysis seconds already counted when the current analysis step began. */
  stepAnalysisBaseSeconds: z.number().optional(),
  analysis: AnalysisStatus.optional(),
  conditions: z.array(Condition).optional(),
  /** Written by the CLI or Argo CD actions; executed once per id. */
  command: Command.optional(),
  lastCommandId: z.string().optional(),
  /** Ids of notifications already sent for this release, so a restart sends none twice. */
  notified: z.array(z.string()).optional(),
});

export const ObjectMeta = z.looseObject({
  name: Name,
  namespace: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const Rollout = z.object({
  apiVersion: z.literal("aviary.dev/v1alpha1"),
  kind: z.literal("Rollout"),
  metadata: ObjectMeta,
  spec: RolloutSpec,
  status: RolloutStatus.optional(),
});

export type Rollout = z.output<typeof Rollout>;
export type RolloutInput = z.input<typeof Rollout>;
export type RolloutSpec = z.output<typeof RolloutSpec>;
export type RolloutStatus = z.output<typeof RolloutStatus>;
export type CanaryStrategy = z.output<typeof CanaryStrategy>;
export type BlueGreenStrategy = z.output<typeof BlueGreenStrategy>;
export type Step = z.output<typeof Step>;
export type AnalysisSpec = z.output<typeof AnalysisSpec>;
export type MetricSpec = z.output<typeof MetricSpec>;
export type TrafficRouting = z.output<typeof TrafficRouting>;
export type PromotionWindow = z.output<typeof PromotionWindow>;
export type HeaderMatch = z.output<typeof HeaderMatch>;
export type Phase = z.output<typeof Phase>;
export type CommandName = z.output<typeof CommandName>;
export type Command = z.output<typeof Command>;
export type Condition = z.output<typeof Condition>;
export type Verdict = z.output<typeof Verdict>;
export type MetricStatus = z.output<typeof MetricStatus>;
export type AnalysisStatus = z.output<typeof AnalysisStatus>;

export const GROUP = "aviary.dev";
export const VERSION = "v1alpha1";
export const ROLLOUT_PLURAL = "rollouts";
