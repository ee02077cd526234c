import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AnalysisSpec, type AnalysisSpec as Spec } from "../api/rollout.ts";
import type { VersionBehaviour } from "../sim/traffic-model.ts";
import { sampleAt, simulateReadings } from "../../test/fixtures/readings.ts";
import type { JudgeMemory, Judgement, MetricsSample, VersionCounters } from "./judge.ts";
import { judgeFor } from "./judges.ts";
import { judgeSequential } from "./sequential.ts";

const errorsOnly = AnalysisSpec.parse({
  metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }],
});
const defaults = AnalysisSpec.parse({});

const counters = (requests: number, errors: number): VersionCounters => ({
  requests,
  errors,
  latencyBuckets: [],
});

/** Feeds readings one by one, as the engine does, and returns every judgement. */
function run(spec: Spec, samples: MetricsSample[], viaJson = false): Judgement[] {
  let memory: JudgeMemory | undefined;
  return samples.map((sample) => {
    const judgement = judgeSequential(spec, memory, sample);
    memory = viaJson
      ? (JSON.parse(JSON.stringify(judgement.memory)) as JudgeMemory)
      : judgement.memory;
    return judgement;
  });
}

const steps = (i: number) => [5, 10, 20, 50][Math.min(3, Math.floor((i - 1) / 20))] ?? 50;
const healthy = (errorRate: number): VersionBehaviour => ({
  errorRate,
  latencyP50Ms: 40,
  latencyP99Ms: 180,
});
const firstFailure = (judgements: Judgement[]) =>
  judgements.findIndex((j) => j.verdict === "Failed");

describe("sequential judge: statistics", () => {
  test("A/A releases rarely roll back: at most a handful of 200 seeds at α = 1%", () => {
    let falseRollbacks = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const samples = simulateReadings({
        seed,
        rps: 50,
        intervals: 80,
        weight: steps,
        stable: healthy(0.005),
        canary: healthy(0.005),
      });
      if (firstFailure(run(defaults, samples)) >= 0) falseRollbacks++;
    }
    // Ville's inequality bounds each of the two tests at 1%: about 4 of 200 at worst.
    assert.ok(falseRollbacks <= 8, `${falseRollbacks} false rollbacks of 200`);
  });

  test("θ = 5 at p0 = 0.5%, 50 rps, 10% weight fails within 40 intervals (10 min) on every seed", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const samples = simulateReadings({
        seed,
        rps: 50,
        intervals: 40,
        weight: () => 10,
        stable: healthy(0.005),
        canary: healthy(0.025),
      });
      const judgements = run(errorsOnly, samples);
      const failedAt = firstFailure(judgements);
      assert.ok(failedAt > 0, `seed ${seed}: never failed`);
      assert.match(judgements[failedAt]?.message ?? "", /success-rate.*fails more often/);
    }
  });

  test("a latency regression (P99 180 → 900 ms) fails on p99-latency", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const samples = simulateReadings({
        seed,
        rps: 50,
        intervals: 60,
        weight: () => 20,
        stable: healthy(0.005),
        canary: { errorRate: 0.005, latencyP50Ms: 40, latencyP99Ms: 900 },
      });
      const judgements = run(defaults, samples);
      const failedAt = firstFailure(judgements);
      assert.ok(failedAt > 0, `seed ${seed}: never failed`);
      const latency = judgements[failedAt]?.metrics.find((m) => m.name === "p99-latency");
      assert.equal(latency?.verdict, "Failed");
      assert.ok((latency.canary ?? 0) > (latency.stable ?? Infinity), "canary P99 above stable's");
      // With the default max 500 ms the absolute guard may be first to catch a 900 ms P99.
      assert.match(
        judgements[failedAt]?.message ?? "",
        /p99-latency: (the canary is slower|canary P99 is above the maximum 500 ms)/,
      );
    }
  });

  test("a clearly healthy canary passes the mirror test (early promotion allowed)", () => {
    const samples = simulateReadings({
      seed: 7,
      rps: 100,
      intervals: 80,
      weight: () => 50,
      stable: healthy(0.01),
      canary: healthy(0.01),
    });
    const judgements = run(errorsOnly, samples);
    assert.ok(judgements.some((j) => j.verdict === "Passed"));
    assert.equal(firstFailure(judgements), -1);
  });

  test("memory round-trips through JSON with unchanged behaviour, and holds only finite numbers", () => {
    const samples = simulateReadings({
      seed: 3,
      rps: 50,
      intervals: 80,
      weight: steps,
      stable: healthy(0.005),
      canary: { errorRate: 0.02, latencyP50Ms: 40, latencyP99Ms: 400 },
    });
    const direct = run(defaults, samples);
    const restarted = run(defaults, samples, true);
    assert.deepEqual(restarted, direct);
    const numbers: number[] = [];
    JSON.stringify(direct.at(-1)?.memory, (_k, v: unknown) => {
      if (typeof v === "number") numbers.push(v);
      return v;
    });
    assert.ok(numbers.length > 0 && numbers.every(Number.isFinite));
  });
});

describe("sequential judge: counters and guards", () => {
  test("the first reading is only a baseline", () => {
    const [first] = run(errorsOnly, [sampleAt(0, counters(1000, 500), counters(1000, 0))]);
    assert.equal(first?.verdict, "Running");
    assert.equal(first.conclusive, false);
  });

  test("a counter reset takes the new value as the increase", () => {
    const judgements = run(errorsOnly, [
      sampleAt(0, counters(10_000, 10), counters(100_000, 100)),
      sampleAt(1, counters(10_100, 10), counters(101_000, 101)),
      // The canary pod restarted: its counters start again from 0.
      sampleAt(2, counters(80, 0), counters(102_000, 102)),
    ]);
    const status = judgements[2]?.metrics.find((m) => m.name === "success-rate");
    assert.equal(judgements[2]?.verdict, "Running");
    assert.equal(status?.canary, 100, "80 new requests, none failed");
    assert.equal(status?.stable, 99.9);
  });

  test("no traffic is inconclusive and says so", () => {
    const judgements = run(errorsOnly, [
      sampleAt(0, counters(0, 0), counters(500, 1)),
      sampleAt(1, counters(0, 0), counters(900, 2)),
    ]);
    assert.equal(judgements[1]?.verdict, "Inconclusive");
    assert.equal(judgements[1]?.conclusive, false);
    assert.match(
      judgements[1]?.message ?? "",
      /no traffic: the canary received 0 requests in the last interval/,
    );
  });

  test("too little traffic is pooled until each side has minRequests", () => {
    const judgements = run(errorsOnly, [
      sampleAt(0, counters(0, 0), counters(0, 0)),
      sampleAt(1, counters(8, 0), counters(200, 1)),
      sampleAt(2, counters(16, 0), counters(400, 2)),
      sampleAt(3, counters(24, 0), counters(600, 3)),
    ]);
    assert.deepEqual(
      judgements.slice(1).map((j) => j.verdict),
      ["Inconclusive", "Inconclusive", "Running"],
    );
    assert.match(judgements[1]?.message ?? "", /too little traffic/);
    assert.equal(judgements[3]?.conclusive, true);
  });

  test("an unreadable sample is inconclusive, never a failure", () => {
    const judgement = judgeSequential(errorsOnly, undefined, {
      at: "2026-01-01T00:00:00Z",
      error: "Prometheus is unreachable: connect ECONNREFUSED",
    });
    assert.equal(judgement.verdict, "Inconclusive");
    assert.match(judgement.message, /ECONNREFUSED/);
  });

  test("the catastrophic guard fails at once", () => {
    const judgements = run(errorsOnly, [
      sampleAt(0, counters(0, 0), counters(0, 0)),
      sampleAt(1, counters(100, 30), counters(1000, 1)),
    ]);
    assert.equal(judgements[1]?.verdict, "Failed");
    assert.match(judgements[1]?.message ?? "", /30\.0% of 100 requests.*catastrophic limit of 20%/);
  });

  test("a shared outage does not convict the canary", () => {
    const judgements = run(errorsOnly, [
      sampleAt(0, counters(0, 0), counters(0, 0)),
      sampleAt(1, counters(100, 50), counters(900, 460)),
      sampleAt(2, counters(200, 101), counters(1800, 905)),
    ]);
    assert.deepEqual(
      judgements.slice(1).map((j) => j.verdict),
      ["Inconclusive", "Inconclusive"],
    );
    assert.match(judgements[2]?.message ?? "", /shared outage/);
  });

  test("a custom metric fails after more than failureLimit breaches, and an error is inconclusive", () => {
    const spec = AnalysisSpec.parse({
      failureLimit: 1,
      metrics: [
        { name: "success-rate", builtin: "successRate" },
        { name: "queue-depth", templateRef: { name: "queue-depth" }, max: 100 },
      ],
    });
    const base = (i: number) => sampleAt(i, counters(100 * i, 0), counters(1000 * i, 0));
    const judgements = run(spec, [
      base(0),
      { ...base(1), custom: { "queue-depth": 150 } },
      { ...base(2), custom: { "queue-depth": { error: "query returned no series" } } },
      { ...base(3), custom: { "queue-depth": 170 } },
    ]);
    assert.deepEqual(
      judgements.slice(1).map((j) => j.verdict),
      ["Running", "Inconclusive", "Failed"],
    );
    assert.match(judgements[2]?.message ?? "", /no series/);
    assert.match(judgements[3]?.message ?? "", /queue-depth is 170, above the maximum 100/);
  });

  test("judgeFor picks the judge a spec names", () => {
    const sample = sampleAt(0, counters(0, 0), counters(0, 0));
    assert.equal(
      judgeFor("sequential").judge(errorsOnly, undefined, sample).memory.judge,
      "sequential",
    );
    assert.equal(
      judgeFor("threshold").judge(errorsOnly, undefined, sample).memory.judge,
      "threshold",
    );
  });
});
