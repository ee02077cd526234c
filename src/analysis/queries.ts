import type { AnalysisSpec, TrafficRouting } from "../api/rollout.ts";
import { quotePromQLString } from "./template.ts";

/**
 * Built-in golden-signal queries, per mesh, measuring one version (canary or stable).
 *
 * The sequential judge reads RAW cumulative counters with instant queries (no rate()):
 * it takes deltas itself, handles counter resets, and so never depends on a window.
 * `successRate` and `latencyP99` are Flagger-style display queries over a window, for
 * people, dashboards and docs.
 *
 * How versions are told apart (labels Aviary puts on pods, see src/api/labels.ts):
 * - Istio, host-level routing (a canary and a stable Service): the destination Service.
 * - Istio, subset-level routing (a DestinationRule): both versions sit behind one Service,
 *   so the pod-template hash, which Istio exports as destination_canonical_revision.
 * - Linkerd: the pod-template hash, exported as pod_template_hash on inbound metrics.
 *
 * Gateway API: an HTTPRoute has no metrics of its own; the mesh that implements it
 * (Istio or Linkerd) exports them, so `analysis.metricsFrom` names that mesh
 * (docs/analysis.md).
 */

export type MetricsSource = "istio-host" | "istio-subset" | "linkerd";

/** One version as the queries see it. */
export interface VersionTarget {
  namespace: string;
  /** The Service in front of this version (canaryService or stableService). */
  service: string;
  /** Its pod-template hash. */
  hash: string;
}

export interface CounterQueries {
  /** Total requests so far: one series, or none before the first request. */
  requests: string;
  /** Failed requests so far (Istio: 5xx; Linkerd: classification="failure"). */
  errors: string;
  /** The cumulative latency histogram in milliseconds, one series per `le`. */
  latencyBuckets: string;
}

export interface DisplayQueries {
  /** Percentage of non-failed requests over the window. */
  successRate: string;
  /** 99th percentile latency in milliseconds over the window. */
  latencyP99: string;
}

export type SourceResult = { ok: true; source: MetricsSource } | { ok: false; error: string };

/** Which metrics to read for an analysis, given how traffic is routed. */
export function metricsSourceOf(
  analysis: AnalysisSpec,
  routing: TrafficRouting | undefined,
): SourceResult {
  const mesh = analysis.mesh === "gatewayapi" ? analysis.metricsFrom : analysis.mesh;
  switch (mesh) {
    case "linkerd":
      return { ok: true, source: "linkerd" };
    case "istio":
      return { ok: true, source: routing?.istio?.destinationRule ? "istio-subset" : "istio-host" };
    case undefined:
      return {
        ok: false,
        error:
          'analysis.metricsFrom is required when analysis.mesh is "gatewayapi": set it to the mesh that implements your HTTPRoute ("istio" or "linkerd")',
      };
  }
}

interface Family {
  total: string;
  histogram: string;
  failure: string;
}

const FAMILIES: Record<"istio" | "linkerd", Family> = {
  istio: {
    total: "istio_requests_total",
    histogram: "istio_request_duration_milliseconds_bucket",
    failure: 'response_code=~"5.."',
  },
  linkerd: {
    total: "response_total",
    histogram: "response_latency_ms_bucket",
    failure: 'classification="failure"',
  },
};

function family(source: MetricsSource): Family {
  return FAMILIES[source === "linkerd" ? "linkerd" : "istio"];
}

/** The label matchers selecting one version's traffic, without braces. */
export function versionMatchers(source: MetricsSource, target: VersionTarget): string {
  const ns = quotePromQLString(target.namespace);
  const hash = quotePromQLString(target.hash);
  switch (source) {
    case "istio-host":
      return `reporter="destination", destination_service_namespace=${ns}, destination_service_name=${quotePromQLString(target.service)}`;
    case "istio-subset":
      return `reporter="destination", destination_service_namespace=${ns}, destination_canonical_revision=${hash}`;
    case "linkerd":
      return `namespace=${ns}, direction="inbound", pod_template_hash=${hash}`;
  }
}

export function counterQueries(source: MetricsSource, target: VersionTarget): CounterQueries {
  const { total, histogram, failure } = family(source);
  const m = versionMatchers(source, target);
  return {
    requests: `sum(${total}{${m}})`,
    errors: `sum(${total}{${m}, ${failure}})`,
    latencyBuckets: `sum by (le) (${histogram}{${m}})`,
  };
}

/** `window` must be a Duration (the analysis interval); it is inserted as a range literal. */
export function displayQueries(
  source: MetricsSource,
  target: VersionTarget,
  window: string,
): DisplayQueries {
  const { total, histogram, failure } = family(source);
  const m = versionMatchers(source, target);
  const success = failure.replace("=~", "!~").replace('="', '!="');
  return {
    successRate: `sum(rate(${total}{${m}, ${success}}[${window}])) / sum(rate(${total}{${m}}[${window}])) * 100`,
    latencyP99: `histogram_quantile(0.99, sum by (le) (rate(${histogram}{${m}}[${window}])))`,
  };
}
