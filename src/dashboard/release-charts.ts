import type { CoreV1Api } from "@kubernetes/client-node";
import { durationMs } from "../api/duration.ts";
import { Rollout, type AnalysisSpec, type RolloutStatus } from "../api/rollout.ts";
import { displayQueries, metricsSourceOf, type VersionTarget } from "../analysis/queries.ts";
import { quotePromQLString } from "../analysis/template.ts";
import { resolvePrometheusAuth } from "../kube/prometheus-auth.ts";
import { authHeaders, connectionFor, isHttpUrl } from "../metrics/prometheus.ts";
import type { ChartsUpdate, Series } from "./wire.ts";
import { SecretCache } from "../kube/secret-cache.ts";

/**
 * The Rollout page's charts, from Prometheus range queries over the release's window:
 * canary vs stable success rate and P99 with the judge's own built-in queries
 * (analysis/queries.ts), and the controller's gauges for the weight and the evidence.
 * Prometheus is found as the controller finds it: the Rollout's analysis.prometheus,
 * else the default address given to the dashboard, with the Secret-held credentials the
 * Rollout names (read with the user's own credentials).
 */
export interface ChartInputs {
  rollout: unknown;
  status: RolloutStatus;
  /** RFC 3339; undefined: the last 10 minutes. */
  releaseStartedAt: string | undefined;
  now: number;
  defaultPrometheus: string | undefined;
  core: CoreV1Api;
  /** Weights this server saw on the Rollout (unix seconds, percent), used when Prometheus has none. */
  seenWeights: readonly [number, number][];
}

/** Enough points for a smooth line, few enough for a phone. */
const MAX_POINTS = 240;
const MIN_WINDOW_S = 30;
const MAX_WINDOW_S = 6 * 3600;

export function chartWindow(
  releaseStartedAt: string | undefined,
  now: number,
): { start: number; end: number; step: number } {
  const end = Math.floor(now / 1000);
  const started = releaseStartedAt === undefined ? Number.NaN : Date.parse(releaseStartedAt) / 1000;
  const span = Number.isFinite(started)
    ? Math.min(MAX_WINDOW_S, Math.max(MIN_WINDOW_S, end - Math.floor(started)))
    : 600;
  return { start: end - span, end, step: Math.max(1, Math.ceil(span / MAX_POINTS)) };
}

/** The analysis whose signals the release is judged on, as the controller picks it. */
function analysisOf(rollout: Rollout): AnalysisSpec | undefined {
  const { canary, blueGreen } = rollout.spec.strategy;
  return canary?.analysis ?? blueGreen?.prePromotionAnalysis ?? blueGreen?.postPromotionAnalysis;
}

/** The rate window for the display queries: the analysis interval, at least 10s so a few scrapes fall in it. */
function rateWindow(analysis: AnalysisSpec): string {
  return `${Math.max(10, Math.round(durationMs(analysis.interval) / 1000))}s`;
}

export async function releaseCharts(input: ChartInputs): Promise<ChartsUpdate> {
  const window = chartWindow(input.releaseStartedAt, input.now);
  const charts: ChartsUpdate = {
    start: window.start,
    end: window.end,
    weight: [],
    successRate: [],
    latencyP99: [],
    evidence: [],
    notes: [],
  };
  const parsed = Rollout.safeParse(input.rollout);
  if (!parsed.success) {
    charts.notes.push("the Rollout's spec is not valid, so its metrics cannot be queried");
    return withSeenWeights(charts, input.seenWeights);
  }
  const rollout = parsed.data;
  const analysis = analysisOf(rollout);
  const namespace = rollout.metadata.namespace ?? "default";
  const name = rollout.metadata.name;
  const address = analysis?.prometheus?.address ?? input.defaultPrometheus;
  if (address === undefined || !isHttpUrl(address)) {
    charts.notes.push(
      analysis === undefined
        ? "no analysis and no --prometheus-address: only the weights this dashboard saw are drawn"
        : "no Prometheus address: set analysis.prometheus.address or pass --prometheus-address",
    );
    return withSeenWeights(charts, input.seenWeights);
  }
  // A fresh GET each time (TTL 0): the dashboard reads with the person's own credentials.
  const auth = await resolvePrometheusAuth(
    new SecretCache(input.core, 0),
    namespace,
    analysis?.prometheus,
  );
  if (!auth.ok) {
    charts.notes.push(auth.error);
    return withSeenWeights(charts, input.seenWeights);
  }
  const connection = connectionFor(analysis?.prometheus, { address, auth: auth.auth });
  const range = (query: string) =>
    rangeQuery(connection.address, authHeaders(connection.auth), query, window);
  const rolloutLabels = `namespace=${quotePromQLString(namespace)}, rollout=${quotePromQLString(name)}`;
  const jobs: Promise<void>[] = [];
  jobs.push(
    range(`max(aviary_rollout_canary_weight{${rolloutLabels}})`).then((series) => {
      charts.weight = series.map((s) => ({ ...s, label: "canary weight" }));
    }),
    range(`max by (metric) (aviary_analysis_evidence{${rolloutLabels}})`).then(async (evidence) => {
      const bounds = await range(
        `max by (metric) (aviary_analysis_evidence_bound{${rolloutLabels}})`,
      );
      charts.evidence = evidence.map((e) => ({
        metric: e.label,
        evidence: { label: "evidence", points: e.points },
        bound: { label: "bound", points: bounds.find((b) => b.label === e.label)?.points ?? [] },
      }));
    }),
  );
  const canary = rollout.spec.strategy.canary;
  const source =
    analysis === undefined ? undefined : metricsSourceOf(analysis, canary?.trafficRouting);
  if (analysis === undefined || source === undefined) {
    charts.notes.push(
      "no analysis: the success rate and P99 charts need analysis.mesh to know the queries",
    );
  } else if (!source.ok) {
    charts.notes.push(source.error);
  } else {
    const blueGreen = rollout.spec.strategy.blueGreen;
    const services = {
      canary: canary?.canaryService ?? blueGreen?.previewService ?? "",
      stable: canary?.stableService ?? blueGreen?.activeService ?? "",
    };
    const versions: [string, VersionTarget | undefined][] = [
      ["canary", target(namespace, services.canary, input.status.canaryHash)],
      ["stable", target(namespace, services.stable, input.status.stableHash)],
    ];
    for (const [label, version] of versions) {
      if (version === undefined || (label === "canary" && version.hash === input.status.stableHash))
        continue;
      const queries = displayQueries(source.source, version, rateWindow(analysis));
      jobs.push(
        range(queries.successRate).then((s) => {
          charts.successRate.push(...s.map((x) => ({ ...x, label })));
        }),
        range(queries.latencyP99).then((s) => {
          charts.latencyP99.push(...s.map((x) => ({ ...x, label })));
        }),
      );
    }
  }
  const failures = (await Promise.allSettled(jobs)).flatMap((r) =>
    r.status === "rejected"
      ? [r.reason instanceof Error ? r.reason.message : String(r.reason)]
      : [],
  );
  if (failures.length > 0)
    charts.notes.push(`Prometheus at ${connection.address}: ${failures[0] ?? ""}`);
  // Canary first, then stable: the page colours them in this order.
  charts.successRate.sort((a, b) => a.label.localeCompare(b.label));
  charts.latencyP99.sort((a, b) => a.label.localeCompare(b.label));
  return withSeenWeights(charts, input.seenWeights);
}

function target(
  namespace: string,
  service: string,
  hash: string | undefined,
): VersionTarget | undefined {
  return hash === undefined ? undefined : { namespace, service, hash };
}

/** Without the controller's gauge in Prometheus, the weights this server saw change. */
function withSeenWeights(charts: ChartsUpdate, seen: readonly [number, number][]): ChartsUpdate {
  if (charts.weight.some((s) => s.points.length > 0) || seen.length === 0) return charts;
  const inWindow = seen.filter(([t]) => t >= charts.start);
  const last = seen[seen.length - 1];
  // A step line: the weight holds until it changes, up to now.
  const points: [number, number][] = [...inWindow];
  if (last !== undefined) points.push([charts.end, last[1]]);
  charts.weight = [{ label: "canary weight (seen by this dashboard)", points }];
  return charts;
}

interface Window {
  start: number;
  end: number;
  step: number;
}

const TIMEOUT_MS = 10_000;

/** One query_range; a series' label is its `metric` label when it has one. */
export async function rangeQuery(
  address: string,
  headers: Record<string, string>,
  query: string,
  window: Window,
): Promise<Series[]> {
  const url = new URL("api/v1/query_range", address.endsWith("/") ? address : `${address}/`);
  const response = await fetch(url, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      query,
      start: String(window.start),
      end: String(window.end),
      step: String(window.step),
    }),
    redirect: "error",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = (await response.json().catch(() => ({}))) as {
    status?: string;
    error?: string;
    data?: { result?: { metric?: Record<string, string>; values?: [number, string][] }[] };
  };
  if (!response.ok || body.status !== "success")
    throw new Error(`${String(response.status)} ${body.error ?? response.statusText}`);
  return (body.data?.result ?? []).map((r) => ({
    label: r.metric?.metric ?? "",
    points: (r.values ?? [])
      .map(([t, v]): [number, number] => [t, Number(v)])
      .filter(([, v]) => Number.isFinite(v)),
  }));
}
