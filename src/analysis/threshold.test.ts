import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AnalysisSpec, type AnalysisSpec as Spec } from "../api/rollout.ts";
import type { Judge, JudgeMemory, Judgement, MetricsSample, VersionCounters } from "./judge.ts";
import { createThresholdJudge, thresholdJudge } from "./threshold.ts";

const spec = (overrides: Record<string, unknown> = {}): Spec =>
  AnalysisSpec.parse({
    judge: "threshold",
    metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }],
    ...overrides,
  });

interface Reading {
  canary: [requests: number, errors: number];
  stable?: [requests: number, errors: number];
}

/** Feeds per-interval increases as cumulative counters, through JSON like the status does. */
function run(judge: Judge, analysis: Spec, intervals: Reading[]): Judgement[] {
  const canary = { requests: 0, errors: 0 };
  const stable = { requests: 0, errors: 0 };
  const counters = (c: { requests: number; errors: number }): VersionCounters => ({
    ...c,
    latencyBuckets: [],
  });
  let memory: JudgeMemory | undefined;
  const judgements: Judgement[] = [];
  [undefined, ...intervals].forEach((reading, i) => {
    if (reading) {
      canary.requests += reading.canary[0];
      canary.errors += reading.canary[1];
      stable.requests += reading.stable?.[0] ?? 1000;
      stable.errors += reading.stable?.[1] ?? 0;
    }
    const sample: MetricsSample = {
      at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      canary: counters(canary),
      stable: counters(stable),
    };
    const judgement = judge.judge(analysis, memory, sample);
    memory = JSON.parse(JSON.stringify(judgement.memory)) as JudgeMemory;
    if (i > 0) judgements.push(judgement);
  });
  return judgements;
}

const good: Reading = { canary: [100, 0] };
const bad: Reading = { canary: [100, 5] };
const empty: Reading = { canary: [0, 0] };

describe("threshold judge", () => {
  const cases: { name: string; failureLimit: number; readings: Reading[]; want: string[] }[] = [
    {
      name: "failureLimit 0: the first failed check fails",
      failureLimit: 0,
      readings: [good, bad],
      want: ["Running", "Failed"],
    },
    {
      name: "failureLimit 2: the third failed check fails, even with passes between",
      failureLimit: 2,
      readings: [bad, good, bad, good, bad],
      want: ["Running", "Running", "Running", "Running", "Failed"],
    },
    {
      name: "no data is inconclusive and never counts as a failure",
      failureLimit: 0,
      readings: [empty, { canary: [5, 0] }, empty, good],
      want: ["Inconclusive", "Inconclusive", "Inconclusive", "Running"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const verdicts = run(thresholdJudge, spec({ failureLimit: c.failureLimit }), c.readings).map(
        (j) => j.verdict,
      );
      assert.deepEqual(verdicts, c.want);
    });
  }

  test("a failed check says which limit and how many are tolerated", () => {
    const [first, second] = run(thresholdJudge, spec({ failureLimit: 1 }), [bad, bad]);
    assert.match(
      first?.message ?? "",
      /success rate 95\.0% is below 99%.*failed check 1; 1 tolerated/,
    );
    assert.match(second?.message ?? "", /^Rolling back/);
  });

  test("no traffic says so", () => {
    const [judgement] = run(thresholdJudge, spec(), [empty]);
    assert.match(judgement?.message ?? "", /no traffic: the canary received 0 requests/);
    assert.equal(judgement?.conclusive, false);
  });

  test("with noDataIsFailure, an empty interval is a failed check (Flagger's 'no values found')", () => {
    const flaggerLike = createThresholdJudge({ noDataIsFailure: true });
    const verdicts = run(flaggerLike, spec({ failureLimit: 1, minRequests: 1 }), [
      empty,
      good,
      empty,
    ]);
    assert.deepEqual(
      verdicts.map((j) => j.verdict),
      ["Running", "Running", "Failed"],
    );
    assert.match(verdicts[2]?.message ?? "", /no values found/);
  });

  test("it never passes early", () => {
    const verdicts = run(
      thresholdJudge,
      spec(),
      Array.from({ length: 50 }, () => good),
    );
    assert.ok(verdicts.every((j) => j.verdict === "Running"));
  });

  test("P99 is checked from the interval's bucket increases", () => {
    const analysis = spec({ metrics: [{ name: "p99-latency", builtin: "latencyP99", max: 500 }] });
    const buckets = (fast: number, slow: number) => [
      { le: 100, count: fast },
      { le: 1000, count: fast + slow },
    ];
    const sample = (i: number, canary: VersionCounters): MetricsSample => ({
      at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      canary,
      stable: { requests: 100 * i, errors: 0, latencyBuckets: buckets(100 * i, 0) },
    });
    // Before: 1000 fast requests. Then 100 requests of which 10 took 100..1000 ms.
    const first = thresholdJudge.judge(
      analysis,
      undefined,
      sample(0, { requests: 1000, errors: 0, latencyBuckets: buckets(1000, 0) }),
    );
    const second = thresholdJudge.judge(
      analysis,
      first.memory,
      sample(1, { requests: 1100, errors: 0, latencyBuckets: buckets(1090, 10) }),
    );
    // rank 99 of 100 lies 9/10 of the way through (100, 1000]: 910 ms.
    assert.equal(second.metrics[0]?.canary, 910);
    assert.equal(second.verdict, "Failed");
    assert.match(second.message, /P99 910 ms is above 500 ms/);
  });

  test("the catastrophic guard applies to the threshold judge too", () => {
    const [judgement] = run(thresholdJudge, spec({ failureLimit: 5 }), [{ canary: [100, 40] }]);
    assert.equal(judgement?.verdict, "Failed");
    assert.match(judgement?.message ?? "", /catastrophic/);
  });
});
