import { z } from "zod";
import { ObjectMeta } from "./rollout.ts";

/**
 * A custom PromQL query. Variables such as {{namespace}}, {{canaryService}},
 * {{stableService}}, {{canaryHash}}, {{stableHash}} and {{window}} are filled in
 * (and escaped) by Aviary; see src/analysis/template.ts.
 */
export const MetricTemplateSpec = z.object({
  query: z.string().min(1),
  /** Extra variables, referenced as {{variables.NAME}}. */
  variables: z.record(z.string(), z.string()).optional(),
  /** Default bounds; a Rollout's metric min/max override them. */
  min: z.number().optional(),
  max: z.number().optional(),
});

export const MetricTemplate = z.object({
  apiVersion: z.literal("aviary.dev/v1alpha1"),
  kind: z.literal("MetricTemplate"),
  metadata: ObjectMeta,
  spec: MetricTemplateSpec,
});

export type MetricTemplate = z.output<typeof MetricTemplate>;
export const METRIC_TEMPLATE_PLURAL = "metrictemplates";
