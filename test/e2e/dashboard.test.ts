import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { prometheusUrl, scrapeTarget } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { queryVector } from "../harness/prometheus.ts";
import { REPO_ROOT } from "../harness/testenv.ts";
import { healthyStable, show, startRelease, status, weights } from "./analysis-fixtures.ts";

/**
 * The chart's Grafana dashboard against the real Prometheus, while it scrapes a running
 * controller through an analysed release that is rolled back: every panel's PromQL parses,
 * and returns series.
 */

interface Panel {
  title: string;
  targets: { expr: string; refId: string }[];
}

const dashboard = JSON.parse(
  readFileSync(join(REPO_ROOT, "charts/aviary/dashboards/aviary.json"), "utf8"),
) as { panels: Panel[]; templating: { list: { name: string; definition?: string }[] } };

/** What Grafana puts in place of its variables before it sends a query. */
function expand(expr: string, namespace: string): string {
  return expr
    .replaceAll("$__rate_interval", "10s")
    .replaceAll("$__range", "5m")
    .replaceAll("$__interval", "5s")
    .replaceAll("$namespace", namespace);
}

interface RangeResponse {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string> }[] };
}

async function queryRange(
  expr: string,
  startSeconds: number,
): Promise<{ metric: Record<string, string> }[]> {
  const response = await fetch(`${prometheusUrl()}/api/v1/query_range`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      query: expr,
      start: String(startSeconds),
      end: String(Date.now() / 1000),
      step: "1",
    }),
  });
  const body = (await response.json()) as RangeResponse;
  assert.equal(body.status, "success", `${expr}: ${body.error ?? ""}`);
  return body.data?.result ?? [];
}

/** Prometheus's own parser: format_query fails with bad_data on anything it cannot parse. */
async function parses(expr: string): Promise<string | undefined> {
  const response = await fetch(`${prometheusUrl()}/api/v1/format_query`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query: expr }),
  });
  const body = (await response.json()) as { status: string; error?: string };
  return body.status === "success" ? undefined : (body.error ?? "not parsed");
}

describe("the Grafana dashboard on a live controller", { timeout: 300_000 }, () => {
  test("every panel's PromQL parses and returns series during a release that is rolled back", async (t) => {
    const startedAt = Date.now() / 1000;
    const release = await healthyStable(t, {
      mesh: "istio",
      requestsPerSecond: 200,
      controller: { metricsPort: 0, leaderElection: false },
    });
    const port = release.controller?.metricsPort;
    assert.ok(port !== undefined);
    await scrapeTarget(t, `127.0.0.1:${String(port)}`);
    const canaryHash = await startRelease(release);
    const ns = release.namespace;
    await eventually(
      "the canary receives traffic and the judge reports evidence",
      () => status(ns),
      (s) => (s.canaryWeight ?? 0) > 0 && (s.analysis?.metrics ?? []).some((m) => m.evidence),
      show,
      60_000,
    );
    await eventually(
      "Prometheus has scraped the evidence",
      () => queryVector(prometheusUrl(), `aviary_analysis_evidence{namespace="${ns}"}`),
      (v) => v.length > 0,
    );
    release.sim.setBehaviour(canaryHash, { errorRate: 0.05 });
    await eventually(
      "rolled back",
      () => status(ns),
      (s) => s.phase === "Degraded",
      show,
      60_000,
    );
    assert.deepEqual(await weights(ns, "istio"), [100, 0]);
    await eventually(
      "Prometheus has scraped the rollback",
      () => queryVector(prometheusUrl(), `aviary_rollout_aborts_total{namespace="${ns}"}`),
      (v) => v.some((s) => s.labels.reason === "RolledBack" && s.value === 1),
    );

    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = expand(target.expr, ns);
        assert.equal(await parses(expr), undefined, `${panel.title} ${target.refId}: ${expr}`);
        const series = await queryRange(expr, startedAt);
        t.diagnostic(`${panel.title} ${target.refId}: ${String(series.length)} series`);
        if (series.length === 0) empty.push(`${panel.title} ${target.refId}: ${expr}`);
      }
    }
    assert.deepEqual(empty, [], "every panel query returns series");

    // The panels show what happened: the canary had weight, the judge's bound, the phase now.
    const weight = await queryVector(
      prometheusUrl(),
      `max_over_time(aviary_rollout_canary_weight{namespace="${ns}"}[5m])`,
    );
    assert.ok((weight[0]?.value ?? 0) > 0, "the weight panel saw the canary's traffic");
    const bound = await queryVector(
      prometheusUrl(),
      `aviary_analysis_evidence_bound{namespace="${ns}"}`,
    );
    assert.ok(bound.length > 0 && bound.every((b) => b.value > 1), "bound = 1/alpha per metric");
    const phases = await queryVector(
      prometheusUrl(),
      expand(dashboard.panels[0]?.targets[0]?.expr ?? "", ns),
    );
    assert.equal(phases.find((p) => p.labels.phase === "Degraded")?.value, 1);
    const variable = dashboard.templating.list.find((v) => v.name === "namespace");
    const values = (await (
      await fetch(
        `${prometheusUrl()}/api/v1/label/namespace/values?match[]=${encodeURIComponent("aviary_rollout_phase")}`,
      )
    ).json()) as { data: string[] };
    assert.match(variable?.definition ?? "", /label_values\(aviary_rollout_phase, namespace\)/);
    assert.ok(values.data.includes(ns), "the namespace variable offers the release's namespace");
  });
});
