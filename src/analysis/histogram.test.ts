import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  boundaryWithFractionAbove,
  bucketDeltas,
  countAbove,
  histogramQuantile,
  histogramTotal,
} from "./histogram.ts";

// 100 requests: 50 ≤ 10 ms, 90 ≤ 100 ms, 99 ≤ 500 ms, 100 ≤ 1000 ms.
const buckets = [
  { le: 10, count: 50 },
  { le: 100, count: 90 },
  { le: 500, count: 99 },
  { le: 1000, count: 100 },
];

describe("histogramQuantile (histogram_quantile semantics)", () => {
  const cases: { q: number; total: number; want: number | undefined; why: string }[] = [
    { q: 0.5, total: 100, want: 10, why: "rank 50 is the top of the first bucket" },
    { q: 0.25, total: 100, want: 5, why: "the first bucket interpolates from 0" },
    { q: 0.7, total: 100, want: 55, why: "rank 70 is half-way through (10, 100]" },
    { q: 0.99, total: 100, want: 500, why: "rank 99 is the top of (100, 500]" },
    { q: 0.995, total: 100, want: 750, why: "rank 99.5 is half-way through (500, 1000]" },
    {
      q: 0.99,
      total: 200,
      want: 1000,
      why: "a rank above every finite bucket answers the highest bound",
    },
    { q: 0.99, total: 0, want: undefined, why: "an empty histogram has no quantile" },
  ];
  for (const c of cases) {
    test(`q=${c.q}, total=${c.total}: ${c.why}`, () => {
      assert.equal(histogramQuantile(c.q, buckets, c.total), c.want);
    });
  }

  test("ignores bucket order and a +Inf bucket", () => {
    const shuffled = [...buckets].reverse().concat({ le: Infinity, count: 100 });
    assert.equal(histogramQuantile(0.7, shuffled, 100), 55);
  });
});

describe("bucketDeltas", () => {
  test("subtracts the previous reading bucket by bucket", () => {
    const later = buckets.map((b) => ({ le: b.le, count: b.count * 3 }));
    assert.deepEqual(
      bucketDeltas(later, buckets),
      buckets.map((b) => ({ le: b.le, count: b.count * 2 })),
    );
  });

  test("a bucket that went down is a counter reset: the new reading is the increase", () => {
    const afterRestart = [
      { le: 10, count: 4 },
      { le: 100, count: 5 },
      { le: 500, count: 5 },
      { le: 1000, count: 5 },
    ];
    assert.deepEqual(bucketDeltas(afterRestart, buckets), afterRestart);
  });

  test("without a previous reading everything is new", () => {
    assert.deepEqual(bucketDeltas(buckets, undefined), buckets);
  });
});

describe("counting slow requests", () => {
  test("countAbove counts requests slower than a bucket bound", () => {
    assert.equal(countAbove(buckets, 100, 100), 10);
    assert.equal(countAbove(buckets, 1000, 100), 0);
    assert.equal(countAbove(buckets, 250, 100), undefined, "250 is not a bucket bound");
  });

  test("the boundary is the smallest bound with at most the fraction above it", () => {
    assert.equal(boundaryWithFractionAbove(buckets, 100, 0.01), 500);
    assert.equal(boundaryWithFractionAbove(buckets, 100, 0.1), 100);
    assert.equal(boundaryWithFractionAbove(buckets, 0, 0.01), undefined);
  });

  test("the total comes from a +Inf bucket when there is one", () => {
    assert.equal(histogramTotal([...buckets, { le: Infinity, count: 120 }], 100), 120);
    assert.equal(histogramTotal(buckets, 100), 100);
  });
});
