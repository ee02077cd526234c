import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { AnalysisSpec, Rollout } from "../api/rollout.ts";
import { GROUP, VERSION } from "../api/rollout.ts";
import { METRIC_TEMPLATE_PLURAL, type MetricTemplate } from "../api/metric-template.ts";
import { parseMetricTemplate } from "../api/load.ts";
import type { MetricsSample } from "../analysis/judge.ts";
import type { Observed, Problem } from "../core/plan.ts";
import { analysisSpecProblems, observeMetrics } from "../metrics/observe.ts";
import { connectionFor, createPrometheusProvider } from "../metrics/prometheus.ts";
import { isNotFound } from "./api-errors.ts";
import { resolvePrometheusAuth } from "./prometheus-auth.ts";
import { SecretCache } from "./secret-cache.ts";
import { namespaceOf } from "./replica-sets.ts";

/** Metrics for a Rollout's analysis: its MetricTemplates, and readings from Prometheus. */
export class AnalysisSource {
  private readonly secrets: SecretCache;
  private readonly custom: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    /** Prometheus address for Rollouts that do not name one. */
    private readonly prometheusAddress: string | undefined,
    /** The watch cache of MetricTemplates; undefined (or not listed yet): list them. */
    private readonly cachedTemplates?: (namespace: string) => unknown[] | undefined,
  ) {
    this.secrets = new SecretCache(kubeConfig.makeApiClient(CoreV1Api));
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async sample(
    rollout: Rollout,
    analysis: AnalysisSpec,
    observed: Omit<Observed, "metrics">,
    now: number,
  ): Promise<MetricsSample> {
    const auth = await resolvePrometheusAuth(
      this.secrets,
      namespaceOf(rollout),
      analysis.prometheus,
    );
    if (!auth.ok) return { at: new Date(now).toISOString(), error: auth.error };
    const provider = createPrometheusProvider(
      connectionFor(analysis.prometheus, { address: this.prometheusAddress, auth: auth.auth }),
    );
    const hashes = {
      canaryHash: rollout.status?.canaryHash ?? observed.templateHash,
      stableHash: rollout.status?.stableHash ?? observed.templateHash,
    };
    const templates = await this.metricTemplates(rollout, analysis);
    return observeMetrics(rollout, hashes, provider, new Date(now), { analysis, templates });
  }

  /**
   * MetricTemplates that are missing or use unknown variables: InvalidSpec, found before
   * any reading is attempted. Only Rollouts that reference templates pay for the LIST.
   */
  async problems(rollout: Rollout): Promise<Problem[]> {
    const { canary, blueGreen } = rollout.spec.strategy;
    const analyses: [string, AnalysisSpec | undefined][] = [
      ["spec.strategy.canary.analysis", canary?.analysis],
      ["spec.strategy.blueGreen.prePromotionAnalysis", blueGreen?.prePromotionAnalysis],
      ["spec.strategy.blueGreen.postPromotionAnalysis", blueGreen?.postPromotionAnalysis],
    ];
    const problems: Problem[] = [];
    for (const [path, analysis] of analyses) {
      if (analysis === undefined || !analysis.metrics.some((m) => m.templateRef !== undefined))
        continue;
      const templates = await this.metricTemplates(rollout, analysis);
      for (const problem of analysisSpecProblems(rollout, templates, analysis)) {
        problems.push({ path: problem.field.replace(/^analysis/, path), message: problem.message });
      }
    }
    return problems;
  }

  private async metricTemplates(
    rollout: Rollout,
    analysis: AnalysisSpec,
  ): Promise<Record<string, MetricTemplate>> {
    if (!analysis.metrics.some((m) => m.templateRef !== undefined)) return {};
    try {
      const cached = this.cachedTemplates?.(namespaceOf(rollout));
      const list =
        cached !== undefined
          ? { items: cached }
          : ((await this.custom.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: namespaceOf(rollout),
              plural: METRIC_TEMPLATE_PLURAL,
            })) as { items?: unknown[] });
      const templates: Record<string, MetricTemplate> = {};
      for (const item of list.items ?? []) {
        const parsed = parseMetricTemplate(item);
        if (parsed.ok) templates[parsed.template.metadata.name] = parsed.template;
      }
      return templates;
    } catch (error) {
      if (isNotFound(error)) return {};
      throw error;
    }
  }
}
