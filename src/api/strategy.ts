import { z } from "zod";
import { Duration, Seconds } from "./duration.ts";
import { AnalysisSpec } from "./analysis-spec.ts";
import { exactlyOne, Percent, ServiceName } from "./schema-parts.ts";
import { TrafficRouting } from "./traffic-routing.ts";
import { MAX_REPLICAS } from "./limits.ts";

// Canary

/** An HTTP header name is a token (RFC 9110): no spaces, colons or control characters. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** Header values Envoy accepts: no control characters (no CR, LF or NUL). */
const HEADER_VALUE_PATTERN = "^[^\\x00-\\x08\\x0A-\\x1F\\x7F]*$";
const HeaderValue = z
  .string()
  .max(1024)
  .regex(
    new RegExp(HEADER_VALUE_PATTERN),
    "a header value without control characters (no newlines)",
  );

export const HeaderMatch = z
  .object({
    header: z
      .string()
      .min(1)
      .max(256)
      .regex(
        new RegExp(HEADER_NAME_PATTERN),
        "an HTTP header name: letters, digits and !#$%&'*+.^_`|~- only (no spaces, colons or newlines)",
      ),
    exact: HeaderValue.optional(),
    prefix: HeaderValue.optional(),
    /** RE2 syntax, as Envoy evaluates it; checked when the Rollout is read. */
    regex: z.string().min(1).max(1024).optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      exactlyOne(
        ["exact", "prefix", "regex"],
        "a header match sets exactly one of exact, prefix or regex",
      ),
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
        replicas: z.int().min(0).max(MAX_REPLICAS).optional(),
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

const SUBSET_LEVEL =
  "(has(self.trafficRouting) && has(self.trafficRouting.istio) && has(self.trafficRouting.istio.destinationRule))";

export const CanaryStrategy = z
  .object({
    /** Optional with subset-level routing, where the DestinationRule's host is the one Service. */
    stableService: ServiceName.optional(),
    canaryService: ServiceName.optional(),
    trafficRouting: TrafficRouting.optional(),
    analysis: AnalysisSpec.optional(),
    // The bounds on lists keep the CEL rules that run over their items within the API server's cost budget.
    steps: z.array(Step).max(100).default([]),
    promotionWindows: z.array(PromotionWindow).max(10).optional(),
    /** Seconds the old stable ReplicaSet stays up after a promotion. */
    scaleDownDelaySeconds: Seconds.default(30),
    /** Seconds the canary stays up after an abort, with no traffic. */
    abortScaleDownDelaySeconds: Seconds.default(30),
  })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: `(has(self.stableService) && has(self.canaryService)) || ${SUBSET_LEVEL}`,
        message:
          "set stableService and canaryService (they may be omitted only with subset-level routing, trafficRouting.istio.destinationRule)",
      },
      {
        // Subset-level routing puts both versions behind one Service, told apart by DestinationRule subsets.
        rule: `!has(self.stableService) || !has(self.canaryService) || self.stableService != self.canaryService || ${SUBSET_LEVEL}`,
        message:
          "stableService and canaryService must name different Services (unless trafficRouting.istio.destinationRule splits one Service by subsets)",
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

// Blue/green

export const PromotionAnalysis = AnalysisSpec.extend({ duration: Duration.default("5m") });

export const BlueGreenStrategy = z
  .object({
    activeService: ServiceName,
    previewService: ServiceName,
    trafficRouting: TrafficRouting.optional(),
    autoPromotionEnabled: z.boolean().default(true),
    /** Seconds after the preview is ready before it is promoted on its own. */
    autoPromotionSeconds: Seconds.optional(),
    prePromotionAnalysis: PromotionAnalysis.optional(),
    postPromotionAnalysis: PromotionAnalysis.optional(),
    promotionWindows: z.array(PromotionWindow).max(10).optional(),
    scaleDownDelaySeconds: Seconds.default(30),
    abortScaleDownDelaySeconds: Seconds.default(30),
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
      exactlyOne(
        ["canary", "blueGreen"],
        "set exactly one strategy: spec.strategy.canary or spec.strategy.blueGreen",
      ),
    ],
  });

export type CanaryStrategy = z.output<typeof CanaryStrategy>;
export type BlueGreenStrategy = z.output<typeof BlueGreenStrategy>;
export type Step = z.output<typeof Step>;
export type PromotionWindow = z.output<typeof PromotionWindow>;
export type HeaderMatch = z.output<typeof HeaderMatch>;
