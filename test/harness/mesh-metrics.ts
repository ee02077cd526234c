import type { VersionCounters } from "../../src/analysis/judge.ts";
import { addRequests, emptyCounters, type VersionBehaviour } from "../../src/sim/traffic-model.ts";
import type { Random } from "../../src/sim/random.ts";

/**
 * Cumulative request counters per destination, exposed in the exact shape Istio's and
 * Linkerd's proxies export. Written as exposition text by hand because the counters
 * arrive in aggregate (whole histogram buckets at once), which prom-client's
 * Histogram cannot take.
 */
export interface Destination {
  /** The Service the route sent the requests to. */
  service: string;
  namespace: string;
  /** Deployment-like workload name (the ReplicaSet name without its hash). */
  workload: string;
  /** Pod-template hash of the version; empty when the Service does not select one. */
  hash: string;
}

interface Series {
  destination: Destination;
  ok: VersionCounters;
  failed: VersionCounters;
  okLatencySumMs: number;
  failedLatencySumMs: number;
}

const Z99 = 2.3263478740408408;

/** Mean of the version's log-normal latency, used for the histograms' _sum. */
function meanLatencyMs(b: VersionBehaviour): number {
  const mu = Math.log(b.latencyP50Ms);
  const sigma = Math.max(1e-6, (Math.log(b.latencyP99Ms) - mu) / Z99);
  return Math.exp(mu + (sigma * sigma) / 2);
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function labelText(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;
}

function histogramLines(
  name: string,
  labels: Record<string, string>,
  counters: VersionCounters,
  sum: number,
): string[] {
  const lines = counters.latencyBuckets.map(
    (b) => `${name}_bucket${labelText({ ...labels, le: String(b.le) })} ${b.count}`,
  );
  lines.push(`${name}_bucket${labelText({ ...labels, le: "+Inf" })} ${counters.requests}`);
  lines.push(`${name}_sum${labelText(labels)} ${sum}`);
  lines.push(`${name}_count${labelText(labels)} ${counters.requests}`);
  return lines;
}

export class MeshMetrics {
  private readonly series = new Map<string, Series>();

  private readonly sourceWorkload: string;

  constructor(sourceWorkload: string) {
    this.sourceWorkload = sourceWorkload;
  }

  /** Records `requests` requests to a destination: errors drawn from the behaviour, then latencies. */
  record(
    random: Random,
    destination: Destination,
    behaviour: VersionBehaviour,
    requests: number,
    errors: number,
  ): void {
    const key = JSON.stringify(destination);
    const series = this.series.get(key) ?? {
      destination,
      ok: emptyCounters(),
      failed: emptyCounters(),
      okLatencySumMs: 0,
      failedLatencySumMs: 0,
    };
    const mean = meanLatencyMs(behaviour);
    const latencyOnly = { ...behaviour, errorRate: 0 };
    series.ok = addRequests(random, series.ok, latencyOnly, requests - errors);
    series.failed = addRequests(random, series.failed, latencyOnly, errors);
    series.okLatencySumMs += (requests - errors) * mean;
    series.failedLatencySumMs += errors * mean;
    this.series.set(key, series);
  }

  exposition(): string {
    const istioRequests: string[] = [];
    const istioDuration: string[] = [];
    const linkerdResponses: string[] = [];
    const linkerdLatency: string[] = [];
    for (const s of this.series.values()) {
      const d = s.destination;
      for (const [code, counters, sum] of [
        ["200", s.ok, s.okLatencySumMs],
        ["503", s.failed, s.failedLatencySumMs],
      ] as const) {
        if (counters.requests === 0 && code === "503") continue;
        const istio = {
          reporter: "destination",
          source_workload: this.sourceWorkload,
          source_workload_namespace: d.namespace,
          destination_service: `${d.service}.${d.namespace}.svc.cluster.local`,
          destination_service_name: d.service,
          destination_service_namespace: d.namespace,
          destination_workload: d.workload,
          destination_workload_namespace: d.namespace,
          destination_canonical_service: d.workload,
          destination_canonical_revision: d.hash === "" ? "latest" : d.hash,
          request_protocol: "http",
          response_code: code,
          response_flags: "-",
        };
        istioRequests.push(`istio_requests_total${labelText(istio)} ${counters.requests}`);
        istioDuration.push(
          ...histogramLines("istio_request_duration_milliseconds", istio, counters, sum),
        );
        const linkerd = {
          direction: "inbound",
          namespace: d.namespace,
          deployment: d.workload,
          pod_template_hash: d.hash,
          status_code: code,
        };
        const classification = code === "200" ? "success" : "failure";
        linkerdResponses.push(
          `response_total${labelText({ ...linkerd, classification })} ${counters.requests}`,
        );
        linkerdLatency.push(...histogramLines("response_latency_ms", linkerd, counters, sum));
      }
    }
    return [
      "# TYPE istio_requests_total counter",
      ...istioRequests,
      "# TYPE istio_request_duration_milliseconds histogram",
      ...istioDuration,
      "# TYPE response_total counter",
      ...linkerdResponses,
      "# TYPE response_latency_ms histogram",
      ...linkerdLatency,
      "",
    ].join("\n");
  }
}
