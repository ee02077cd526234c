import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Rollout } from "../api/rollout.ts";
import type { RolloutInput } from "../api/rollout.ts";
import { MetricTemplate } from "../api/metric-template.ts";
import { analysisSpecProblems, observeMetrics } from "./observe.ts";
import { failed } from "./provider.ts";
import type { MetricsProvider, QueryOutcome, SeriesValue } from "./provider.ts";

/**
 * observeMetrics over an in-memory metrics world (the simulator's seam, not Prometheus):
 * how readings become a MetricsSample. The Prometheus path itself is covered by
 * test/e2e/prometheus.test.ts against a real Prometheus.
 */

const hashes = { canaryHash: "c4n4ry", stableHash: "st4bl3" };
const now = new Date("2026-01-02T03:04:05Z");

function rollout(analysis: Record<string, unknown>): Rollout {
  const input: RolloutInput = {
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "api", namespace: "shop" },
    spec: {
      selector: { matchLabels: { app: "api" } },
      template: {},
      strategy: {
        canary: {
          canaryService: "api-canary",
          stableService: "api-stable",
          trafficRouting: { istio: { virtualService: { name: "api" } } },
          analysis,
        },
      },
    },
  };
  return Rollout.parse(input);
}

function template(name: string, query: string, variables?: Record<string, string>): MetricTemplate {
  return MetricTemplate.parse({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "MetricTemplate",
    metadata: { name, namespace: "shop" },
    spec: { query, ...(variables ? { variables } : {}) },
  });
}

/** Answers each query with the first rule whose pattern it matches; records what was asked. */
function world(
  rules: [RegExp, QueryOutcome<SeriesValue[]>][],
): MetricsProvider & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    instantQuery(query: string) {
      asked.push(query);
      const rule = rules.find(([pattern]) => pattern.test(query));
      return Promise.resolve(rule ? rule[1] : { ok: true, value: [] });
    },
  };
}

const one = (value: number, labels: Record<string, string> = {}): QueryOutcome<SeriesValue[]> => ({
  ok: true,
  value: [{ labels, value }],
});
const buckets = (pairs: [string, number][]): QueryOutcome<SeriesValue[]> => ({
  ok: true,
  value: pairs.map(([le, value]) => ({ labels: { le }, value })),
});

describe("observeMetrics", () => {
  test("reads canary and stable counters separately", async () => {
    const provider = world([
      [/^sum\(istio_requests_total\{.*"api-canary", response_code/, one(5)],
      [/^sum\(istio_requests_total\{.*"api-canary"\}\)/, one(100)],
      [/^sum\(istio_requests_total\{.*"api-stable", response_code/, one(2)],
      [/^sum\(istio_requests_total\{.*"api-stable"\}\)/, one(900)],
      [
        /api-canary.*\}\)$/,
        buckets([
          ["+Inf", 100],
          ["100", 90],
          ["10", 40],
          ["1e+02", 1],
        ]),
      ],
      [/api-stable.*\}\)$/, buckets([["10", 800]])],
    ]);
    const sample = await observeMetrics(rollout({}), hashes, provider, now);
    assert.deepEqual(sample, {
      at: "2026-01-02T03:04:05.000Z",
      canary: {
        requests: 100,
        errors: 5,
        latencyBuckets: [
          { le: 10, count: 40 },
          { le: 100, count: 91 },
        ],
      },
      stable: { requests: 900, errors: 2, latencyBuckets: [{ le: 10, count: 800 }] },
    });
    assert.equal(provider.asked.length, 6);
  });

  test("a version without series yet had no traffic: zero, not an error", async () => {
    const sample = await observeMetrics(rollout({}), hashes, world([]), now);
    const zero = { requests: 0, errors: 0, latencyBuckets: [] };
    assert.deepEqual(sample, { at: "2026-01-02T03:04:05.000Z", canary: zero, stable: zero });
  });

  test("an unreachable Prometheus makes the whole reading fail with the reason", async () => {
    const down = failed(
      "unreachable",
      "Prometheus at http://127.0.0.1:1 is unreachable: connect ECONNREFUSED",
    );
    const sample = await observeMetrics(rollout({}), hashes, world([[/./, down]]), now);
    assert.equal(sample.canary, undefined);
    assert.equal(sample.stable, undefined);
    assert.match(
      sample.error ?? "",
      /reading the canary's metrics: Prometheus at http:\/\/127\.0\.0\.1:1 is unreachable/,
    );
  });

  test("several series where one number is expected is an error, not a sum", async () => {
    const twoSeries: QueryOutcome<SeriesValue[]> = {
      ok: true,
      value: [
        { labels: { a: "1" }, value: 1 },
        { labels: { a: "2" }, value: 2 },
      ],
    };
    const sample = await observeMetrics(
      rollout({}),
      hashes,
      world([[/api-stable"\}\)$/, twoSeries]]),
      now,
    );
    assert.match(sample.error ?? "", /stable's metrics: expected one series but got 2/);
  });

  test("custom metrics are rendered from their MetricTemplate and read as one number", async () => {
    const analysis = {
      metrics: [
        { name: "queue", templateRef: { name: "queue-depth" }, max: 100 },
        { name: "ghost", templateRef: { name: "missing" }, max: 1 },
        { name: "empty", templateRef: { name: "no-data" }, max: 1 },
        { name: "broken", templateRef: { name: "unknown-variable" }, max: 1 },
      ],
    };
    const templates = {
      "queue-depth": template(
        "queue-depth",
        'max(queue_depth{ns="{{namespace}}", q="{{variables.queue}}"})',
        {
          queue: 'orders"}',
        },
      ),
      "no-data": template("no-data", 'max(nothing{svc="{{canaryService}}"})'),
      "unknown-variable": template("unknown-variable", 'max(x{svc="{{service}}"})'),
    };
    const provider = world([[/^max\(queue_depth/, one(42)]]);
    const sample = await observeMetrics(rollout(analysis), hashes, provider, now, { templates });
    assert.ok(provider.asked.includes('max(queue_depth{ns="shop", q="orders\\"}"})'));
    assert.equal(sample.custom?.queue, 42);
    assert.deepEqual(sample.custom?.ghost, {
      error: 'MetricTemplate "missing" was not found in namespace "shop"',
    });
    assert.match(JSON.stringify(sample.custom?.empty), /no data/);
    assert.match(JSON.stringify(sample.custom?.broken), /unknown variable \{\{service\}\}/);
    assert.equal(sample.error, undefined);
  });

  test("Gateway API without metricsFrom cannot be read and says what to set", async () => {
    const sample = await observeMetrics(rollout({ mesh: "gatewayapi" }), hashes, world([]), now);
    assert.match(sample.error ?? "", /analysis\.metricsFrom is required/);
  });
});

describe("analysisSpecProblems", () => {
  test("names the field of each problem that no reading can fix", () => {
    const analysis = {
      mesh: "gatewayapi",
      metrics: [
        { name: "ok", templateRef: { name: "fine" } },
        { name: "ghost", templateRef: { name: "missing" } },
        { name: "broken", templateRef: { name: "typo" } },
      ],
    };
    const templates = {
      fine: template("fine", 'x{a="{{variables.a}}"}', { a: "1" }),
      typo: template("typo", 'x{a="{{canaryservice}}", b="{{variables.b}}"}'),
    };
    const problems = analysisSpecProblems(rollout(analysis), templates);
    assert.deepEqual(
      problems.map((p) => p.field),
      [
        "analysis.metricsFrom",
        "analysis.metrics[1].templateRef",
        "analysis.metrics[2].templateRef",
      ],
    );
    assert.match(
      problems[2]?.message ?? "",
      /unknown variables \{\{canaryservice\}\}, \{\{variables\.b\}\}; allowed variables are .*\{\{canaryService\}\}/,
    );
  });
});
