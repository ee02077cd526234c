import { test } from "node:test";
import assert from "node:assert/strict";
import {
  byLabel,
  delta,
  histogram,
  linearFit,
  parseMetrics,
  quantile,
  total,
} from "../../bench/scale/metrics-text.ts";

const TEXT = `# HELP aviary_kube_api_requests_total Requests
# TYPE aviary_kube_api_requests_total counter
aviary_kube_api_requests_total{verb="get"} 3
aviary_kube_api_requests_total{verb="patch"} 7
process_resident_memory_bytes 104857600
aviary_reconcile_duration_seconds_bucket{le="0.01"} 2
aviary_reconcile_duration_seconds_bucket{le="0.1"} 8
aviary_reconcile_duration_seconds_bucket{le="+Inf"} 10
aviary_reconcile_duration_seconds_sum 1.5
aviary_reconcile_duration_seconds_count 10
odd{msg="a \\"quoted\\" value"} 1
`;

test("a scrape is read as Prometheus reads it", () => {
  const scrape = parseMetrics(TEXT);
  assert.equal(total(scrape, "process_resident_memory_bytes"), 100 * 2 ** 20);
  assert.equal(total(scrape, "aviary_kube_api_requests_total"), 10);
  assert.equal(total(scrape, "aviary_kube_api_requests_total", { verb: "patch" }), 7);
  assert.deepEqual(
    [...byLabel(scrape, "aviary_kube_api_requests_total", "verb")],
    [
      ["get", 3],
      ["patch", 7],
    ],
  );
  assert.equal(scrape.find((s) => s.name === "odd")?.labels.msg, 'a "quoted" value');
});

test("per-label deltas keep what grew", () => {
  const before = new Map([
    ["get", 3],
    ["patch", 7],
  ]);
  const after = new Map([
    ["get", 3],
    ["patch", 9],
    ["watch", 1],
  ]);
  assert.deepEqual(
    [...delta(before, after)],
    [
      ["patch", 2],
      ["watch", 1],
    ],
  );
});

test("quantiles are interpolated within the bucket of the observations made in between", () => {
  const h1 = histogram(parseMetrics(TEXT), "aviary_reconcile_duration_seconds");
  const h0 = { count: 0, buckets: new Map<number, number>() };
  // Rank 5 of 10: 3 of the 6 observations in (0.01, 0.1].
  assert.ok(Math.abs((quantile(h0, h1, 0.5) ?? NaN) - 0.055) < 1e-9);
  // Rank 9.9 lies in +Inf: the largest finite bound.
  assert.equal(quantile(h0, h1, 0.99), 0.1);
  assert.equal(quantile(h1, h1, 0.5), undefined);
});

test("the marginal cost is the least-squares slope", () => {
  const fit = linearFit([
    [250, 60],
    [500, 70],
    [1000, 90],
  ]);
  assert.ok(Math.abs(fit.slope - 0.04) < 1e-9);
  assert.ok(Math.abs(fit.intercept - 50) < 1e-9);
});
