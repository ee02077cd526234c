import { z } from "zod";
import { Duration } from "./duration.ts";
import { atMostOne, exactlyOne, Name, ObjectRef, SecretKeyRef } from "./schema-parts.ts";

export const Mesh = z.enum(["istio", "linkerd", "gatewayapi"]);
export const JudgeName = z.enum(["sequential", "threshold"]);
export const BuiltinMetric = z.enum(["successRate", "latencyP99"]);

export const PrometheusSettings = z
  .object({
    address: z
      .url({ protocol: /^https?$/ })
      .meta({ pattern: "^https?://" })
      .optional(),
    timeout: Duration.optional(),
    /** A bearer token, read from a Secret in the Rollout's namespace. */
    bearerTokenSecretRef: SecretKeyRef.optional(),
    basicAuthSecretRef: z
      .object({ name: Name, usernameKey: z.string().min(1), passwordKey: z.string().min(1) })
      .optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      atMostOne(
        ["bearerTokenSecretRef", "basicAuthSecretRef"],
        "set at most one of bearerTokenSecretRef or basicAuthSecretRef",
      ),
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
  metrics: z
    .array(MetricSpec)
    .min(1)
    .max(20)
    .default([
      { name: "success-rate", builtin: "successRate", min: 99 },
      { name: "p99-latency", builtin: "latencyP99", max: 500 },
    ]),
});

export type AnalysisSpec = z.output<typeof AnalysisSpec>;
export type MetricSpec = z.output<typeof MetricSpec>;
