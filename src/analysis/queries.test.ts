import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AnalysisSpec } from "../api/rollout.ts";
import { counterQueries, displayQueries, metricsSourceOf, versionMatchers } from "./queries.ts";

const canary = { namespace: "shop", service: "api-canary", hash: "7c9f6d" };
const stable = { namespace: "shop", service: "api-stable", hash: "5b8a21" };
const virtualService = { istio: { virtualService: { name: "api" } } };
const destinationRule = {
  istio: {
    virtualService: { name: "api" },
    destinationRule: { name: "api", stableSubset: "v1", canarySubset: "v2" },
  },
};

describe("metricsSourceOf", () => {
  test("Istio host-level routing reads per Service, subset-level per revision", () => {
    const analysis = AnalysisSpec.parse({ mesh: "istio" });
    assert.deepEqual(metricsSourceOf(analysis, virtualService), { ok: true, source: "istio-host" });
    assert.deepEqual(metricsSourceOf(analysis, destinationRule), {
      ok: true,
      source: "istio-subset",
    });
  });

  test("Gateway API reads the metrics of the mesh named by metricsFrom", () => {
    const httpRoute = { gatewayAPI: { httpRoute: { name: "api" } } };
    assert.deepEqual(
      metricsSourceOf(
        AnalysisSpec.parse({ mesh: "gatewayapi", metricsFrom: "linkerd" }),
        httpRoute,
      ),
      {
        ok: true,
        source: "linkerd",
      },
    );
    assert.deepEqual(
      metricsSourceOf(AnalysisSpec.parse({ mesh: "gatewayapi", metricsFrom: "istio" }), httpRoute),
      {
        ok: true,
        source: "istio-host",
      },
    );
    const missing = metricsSourceOf(AnalysisSpec.parse({ mesh: "gatewayapi" }), httpRoute);
    assert.ok(!missing.ok);
    assert.match(missing.error, /analysis\.metricsFrom/);
  });
});

describe("counterQueries", () => {
  test("Istio host-level: raw counters of each version's Service, no rate()", () => {
    assert.deepEqual(counterQueries("istio-host", canary), {
      requests:
        'sum(istio_requests_total{reporter="destination", destination_service_namespace="shop", destination_service_name="api-canary"})',
      errors:
        'sum(istio_requests_total{reporter="destination", destination_service_namespace="shop", destination_service_name="api-canary", response_code=~"5.."})',
      latencyBuckets:
        'sum by (le) (istio_request_duration_milliseconds_bucket{reporter="destination", destination_service_namespace="shop", destination_service_name="api-canary"})',
    });
    assert.match(
      counterQueries("istio-host", stable).requests,
      /destination_service_name="api-stable"/,
    );
  });

  test("Istio subset-level: the version's canonical revision", () => {
    assert.equal(
      counterQueries("istio-subset", stable).errors,
      'sum(istio_requests_total{reporter="destination", destination_service_namespace="shop", destination_canonical_revision="5b8a21", response_code=~"5.."})',
    );
  });

  test("Linkerd: inbound traffic of the version's pod-template hash, failures by classification", () => {
    assert.deepEqual(counterQueries("linkerd", canary), {
      requests:
        'sum(response_total{namespace="shop", direction="inbound", pod_template_hash="7c9f6d"})',
      errors:
        'sum(response_total{namespace="shop", direction="inbound", pod_template_hash="7c9f6d", classification="failure"})',
      latencyBuckets:
        'sum by (le) (response_latency_ms_bucket{namespace="shop", direction="inbound", pod_template_hash="7c9f6d"})',
    });
  });

  test("values are escaped inside the label matchers", () => {
    const matchers = versionMatchers("istio-host", {
      namespace: 'a"} or vector(1) #',
      service: "s",
      hash: "h",
    });
    assert.match(matchers, /destination_service_namespace="a\\"} or vector\(1\) #"/);
  });
});

describe("displayQueries", () => {
  test("Flagger-style success rate (percent) and P99 (ms) over the window", () => {
    assert.deepEqual(displayQueries("linkerd", canary, "1m"), {
      successRate:
        'sum(rate(response_total{namespace="shop", direction="inbound", pod_template_hash="7c9f6d", classification!="failure"}[1m])) / sum(rate(response_total{namespace="shop", direction="inbound", pod_template_hash="7c9f6d"}[1m])) * 100',
      latencyP99:
        'histogram_quantile(0.99, sum by (le) (rate(response_latency_ms_bucket{namespace="shop", direction="inbound", pod_template_hash="7c9f6d"}[1m])))',
    });
    assert.match(
      displayQueries("istio-host", canary, "30s").successRate,
      /response_code!~"5\.\."\}\[30s\]/,
    );
  });
});
