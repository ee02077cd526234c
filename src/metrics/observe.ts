import type { AnalysisSpec, Rollout, TrafficRouting } from "../api/rollout.ts";
import type { MetricTemplate } from "../api/metric-template.ts";
import type { MetricsSample, VersionCounters } from "../analysis/judge.ts";
import { counterQueries, metricsSourceOf } from "../analysis/queries.ts";
import type { MetricsSource, VersionTarget } from "../analysis/queries.ts";
import { allowedVariables, renderQuery, unknownVariables } from "../analysis/template.ts";
import type { TemplateContext } from "../analysis/template.ts";
import { singleValue } from "./provider.ts";
import type { MetricsProvider, QueryOutcome } from "./provider.ts";

/**
 * Reads one MetricsSample for a Rollout: the raw cumulative counters of canary and
 * stable (built-in queries) and its custom MetricTemplate metrics, all in parallel.
 *
 * - A version without series yet has had no traffic: its counters are zero, not an error.
 * - Any failure of a built-in query (Prometheus unreachable, garbage, NaN...) makes the
 *   whole reading fail: `error` says why and the judge treats the interval as inconclusive.
 * - A custom metric that fails carries its own error; the others are kept.
 */

export interface VersionHashes {
  canaryHash: string;
  stableHash: string;
}

export interface ObserveOptions {
  /** MetricTemplates of the Rollout's namespace, already fetched, by name. */
  templates?: Readonly<Record<string, MetricTemplate>> | undefined;
  /** The analysis to run, when not the canary's (blue/green pre- or post-promotion). */
  analysis?: AnalysisSpec | undefined;
}

/** A problem in the spec that no reading can fix: the controller reports it as InvalidSpec. */
export interface SpecProblem {
  field: string;
  message: string;
}

interface Plan {
  analysis: AnalysisSpec;
  routing: TrafficRouting | undefined;
  namespace: string;
  canaryService: string;
  stableService: string;
}

function planFor(rollout: Rollout, override: AnalysisSpec | undefined): Plan | undefined {
  const namespace = rollout.metadata.namespace ?? "default";
  const { canary, blueGreen } = rollout.spec.strategy;
  if (canary) {
    const analysis = override ?? canary.analysis;
    if (!analysis) return undefined;
    // Subset-level routing may name no Services: its queries tell versions apart by revision.
    const { canaryService = "", stableService = "", trafficRouting: routing } = canary;
    return { analysis, routing, namespace, canaryService, stableService };
  }
  if (blueGreen) {
    const analysis = override ?? blueGreen.prePromotionAnalysis ?? blueGreen.postPromotionAnalysis;
    if (!analysis) return undefined;
    const {
      previewService: canaryService,
      activeService: stableService,
      trafficRouting: routing,
    } = blueGreen;
    return { analysis, routing, namespace, canaryService, stableService };
  }
  return undefined;
}

export async function observeMetrics(
  rollout: Rollout,
  hashes: VersionHashes,
  provider: MetricsProvider,
  now: Date,
  options: ObserveOptions = {},
): Promise<MetricsSample> {
  const at = now.toISOString();
  const plan = planFor(rollout, options.analysis);
  if (!plan) return { at, error: "this Rollout declares no analysis to read metrics for" };
  const source = metricsSourceOf(plan.analysis, plan.routing);
  if (!source.ok) return { at, error: source.error };

  const target = (service: string, hash: string): VersionTarget => ({
    namespace: plan.namespace,
    service,
    hash,
  });
  const [canary, stable, custom] = await Promise.all([
    readCounters(
      provider,
      source.source,
      target(plan.canaryService, hashes.canaryHash),
      now,
      "canary",
    ),
    readCounters(
      provider,
      source.source,
      target(plan.stableService, hashes.stableHash),
      now,
      "stable",
    ),
    readCustomMetrics(rollout, plan, hashes, provider, now, options.templates ?? {}),
  ]);
  const sample: MetricsSample = { at };
  if (Object.keys(custom).length > 0) sample.custom = custom;
  if (!canary.ok) return { ...sample, error: canary.failure.message };
  if (!stable.ok) return { ...sample, error: stable.failure.message };
  return { ...sample, canary: canary.value, stable: stable.value };
}

async function readCounters(
  provider: MetricsProvider,
  source: MetricsSource,
  target: VersionTarget,
  now: Date,
  version: string,
): Promise<QueryOutcome<VersionCounters>> {
  const queries = counterQueries(source, target);
  const [requestsResult, errorsResult, bucketsResult] = await Promise.all([
    provider.instantQuery(queries.requests, now),
    provider.instantQuery(queries.errors, now),
    provider.instantQuery(queries.latencyBuckets, now),
  ]);
  const requests = singleValue(requestsResult, queries.requests, 0);
  const errors = singleValue(errorsResult, queries.errors, 0);
  const reading = `reading the ${version}'s metrics: `;
  if (!requests.ok)
    return {
      ok: false,
      failure: { ...requests.failure, message: reading + requests.failure.message },
    };
  if (!errors.ok)
    return { ok: false, failure: { ...errors.failure, message: reading + errors.failure.message } };
  if (!bucketsResult.ok) {
    return {
      ok: false,
      failure: { ...bucketsResult.failure, message: reading + bucketsResult.failure.message },
    };
  }
  // Series with the same bound written differently ("1" and "1.0") are added up. The +Inf
  // bucket is left out: its count is the request count, and Infinity does not survive
  // JSON in the judge's status.
  const byBound = new Map<number, number>();
  for (const series of bucketsResult.value) {
    const le = Number(series.labels.le);
    if (Number.isFinite(le)) byBound.set(le, (byBound.get(le) ?? 0) + series.value);
  }
  const latencyBuckets = [...byBound]
    .map(([le, count]) => ({ le, count }))
    .sort((a, b) => a.le - b.le);
  return { ok: true, value: { requests: requests.value, errors: errors.value, latencyBuckets } };
}

function templateContext(
  rollout: Rollout,
  plan: Plan,
  hashes: VersionHashes,
  template: MetricTemplate,
): TemplateContext {
  return {
    namespace: plan.namespace,
    rollout: rollout.metadata.name,
    canaryService: plan.canaryService,
    stableService: plan.stableService,
    canaryHash: hashes.canaryHash,
    stableHash: hashes.stableHash,
    window: plan.analysis.interval,
    variables: template.spec.variables,
  };
}

async function readCustomMetrics(
  rollout: Rollout,
  plan: Plan,
  hashes: VersionHashes,
  provider: MetricsProvider,
  now: Date,
  templates: Readonly<Record<string, MetricTemplate>>,
): Promise<Record<string, number | { error: string }>> {
  const readings = plan.analysis.metrics.flatMap((metric) => {
    const ref = metric.templateRef;
    if (ref === undefined) return [];
    const read = async (): Promise<number | { error: string }> => {
      const template = templates[ref.name];
      if (template === undefined) {
        return {
          error: `MetricTemplate "${ref.name}" was not found in namespace "${plan.namespace}"`,
        };
      }
      const rendered = renderQuery(
        template.spec.query,
        templateContext(rollout, plan, hashes, template),
      );
      if (!rendered.ok) return { error: `MetricTemplate "${ref.name}": ${rendered.error}` };
      const value = singleValue(await provider.instantQuery(rendered.query, now), rendered.query);
      return value.ok ? value.value : { error: value.failure.message };
    };
    return [read().then((reading) => [metric.name, reading] as const)];
  });
  return Object.fromEntries(await Promise.all(readings));
}

/** What in a Rollout's analysis can never produce a reading, for an InvalidSpec condition. */
export function analysisSpecProblems(
  rollout: Rollout,
  templates: Readonly<Record<string, MetricTemplate>>,
  override?: AnalysisSpec,
): SpecProblem[] {
  const plan = planFor(rollout, override);
  if (!plan) return [];
  const problems: SpecProblem[] = [];
  const source = metricsSourceOf(plan.analysis, plan.routing);
  if (!source.ok) problems.push({ field: "analysis.metricsFrom", message: source.error });
  plan.analysis.metrics.forEach((metric, index) => {
    const ref = metric.templateRef;
    const template = ref === undefined ? undefined : templates[ref.name];
    if (ref === undefined) return;
    const field = `analysis.metrics[${index}].templateRef`;
    if (template === undefined) {
      problems.push({
        field,
        message: `MetricTemplate "${ref.name}" was not found in namespace "${plan.namespace}"`,
      });
      return;
    }
    const custom = Object.keys(template.spec.variables ?? {});
    const unknown = unknownVariables(template.spec.query, custom);
    for (const service of ["canaryService", "stableService"] as const) {
      const uses = new RegExp(`\\{\\{\\s*${service}\\s*\\}\\}`).test(template.spec.query);
      if (plan[service] !== "" || !uses) continue;
      problems.push({
        field,
        message: `MetricTemplate "${ref.name}" uses {{${service}}}, but the Rollout names no ${service} (subset-level routing); set spec.strategy.canary.${service}, or query by {{canaryHash}}/{{stableHash}}`,
      });
    }
    if (unknown.length > 0) {
      const names = unknown.map((v) => `{{${v}}}`).join(", ");
      const message = `MetricTemplate "${ref.name}" uses unknown variables ${names}; allowed variables are ${allowedVariables(custom)}`;
      problems.push({ field, message });
    }
  });
  return problems;
}
