import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AnalysisSpec, type AnalysisSpec as Spec, type RolloutStatus } from "../api/rollout.ts";
import { statusMergePatch } from "../kube/status-patch.ts";
import { applyMergePatch } from "../runtime/merge-patch.ts";
import type { VersionBehaviour } from "../sim/traffic-model.ts";
import { simulateReadings } from "../../test/fixtures/readings.ts";
import type { JudgeMemory, Judgement, MetricsSample } from "./judge.ts";
import { foldGuards, intervalNull } from "./absolute-guard.ts";
import { judgeSequential } from "./sequential.ts";

const spec = (metrics: unknown[]): Spec => AnalysisSpec.parse({ metrics });
const minSuccess99 = spec([{ name: "success-rate", builtin: "successRate", min: 99 }]);
const noMin = spec([{ name: "success-rate", builtin: "successRate" }]);
const latencyMax = (max: number) => spec([{ name: "p99-latency", builtin: "latencyP99", max }]);

type Store = "direct" | "json" | "merge-patch";

/** Feeds readings one by one, keeping the judge's memory as the controller would. */
function run(analysis: Spec, samples: MetricsSample[], store: Store = "direct"): Judgement[] {
  let memory: JudgeMemory | undefined;
  let status: RolloutStatus | undefined;
  return samples.map((sample) => {
    const judgement = judgeSequential(analysis, memory, sample);
    if (store === "direct") memory = judgement.memory;
    else if (store === "json") memory = JSON.parse(JSON.stringify(judgement.memory)) as JudgeMemory;
    else {
      // Status is written as a JSON merge patch, where a null would delete a key.
      const next: RolloutStatus = {
        analysis: {
          verdict: judgement.verdict,
          startedAt: samples[0]?.at ?? sample.at,
          conclusiveSeconds: 0,
          samples: 0,
          metrics: judgement.metrics,
          judge: judgement.memory,
        },
      };
      status = applyMergePatch(status, statusMergePatch(status, next)) as RolloutStatus;
      memory = status.analysis?.judge;
    }
    return judgement;
  });
}

const behaviour = (errorRate: number, latencyP99Ms = 180): VersionBehaviour => ({
  errorRate,
  latencyP50Ms: 40,
  latencyP99Ms,
});
const steps = (i: number) => [5, 10, 20, 50][Math.min(3, Math.floor((i - 1) / 20))] ?? 50;
const firstFailure = (judgements: Judgement[]) =>
  judgements.findIndex((j) => j.verdict === "Failed");
const guardFailed = (j: Judgement) => /below the minimum 99%/.test(j.message);
const seeds = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("absolute guard: a canary within the bound is rarely blamed", () => {
  const cases = [
    { name: "canary at 0.5% errors, stable 0.5%: any rollback", canary: 0.005, stable: 0.005 },
    { name: "canary exactly at the 1% bound, stable 0.5%: the guard", canary: 0.01, stable: 0.005 },
  ];
  for (const c of cases) {
    test(`${c.name}, min 99, 200 seeds: at most 8 (α = 1% gives ~2)`, () => {
      let failures = 0;
      for (const seed of seeds(1, 200)) {
        const samples = simulateReadings({
          seed,
          rps: 100,
          intervals: 80,
          weight: steps,
          stable: behaviour(c.stable),
          canary: behaviour(c.canary),
        });
        const judgements = run(minSuccess99, samples);
        const failed =
          c.canary === c.stable ? firstFailure(judgements) >= 0 : judgements.some(guardFailed);
        if (failed) failures++;
      }
      assert.ok(failures <= 8, `${failures} of 200 seeds failed`);
    });
  }
});

describe("absolute guard: a canary that breaks the bound", () => {
  test("canary and stable both at 3% errors with min 99: the canary is not blamed", () => {
    for (const seed of seeds(1, 10)) {
      const judgements = run(
        minSuccess99,
        simulateReadings({
          seed,
          rps: 100,
          intervals: 40,
          weight: () => 20,
          stable: behaviour(0.03),
          canary: behaviour(0.03),
        }),
      );
      assert.equal(firstFailure(judgements), -1, `seed ${seed}: the canary was rolled back`);
      const last = judgements.at(-1);
      assert.equal(last?.verdict, "Inconclusive");
      assert.match(
        last.message,
        /success-rate: stable is failing too, so the canary is not blamed/,
      );
      assert.equal(last.conclusive, false, "held time does not count toward the step");
      const status = last.metrics.find((m) => m.name === "success-rate");
      assert.equal(status?.verdict, "Inconclusive");
    }
  });

  test("late in a release (90% weight), canary 1.5% vs stable 0.8% with min 99: rolled back on every seed, with or without the guard", () => {
    // Stable then serves little traffic, so each interval's bar (the bound, or stable's
    // rate in that interval when higher) is uncertain, and the guard shares α with the
    // comparison: it is no longer the faster of the two, but the canary is still caught.
    for (const seed of seeds(1, 10)) {
      const samples = simulateReadings({
        seed,
        rps: 400,
        intervals: 40,
        weight: () => 90,
        stable: behaviour(0.008),
        canary: behaviour(0.015),
      });
      const withMin = run(minSuccess99, samples);
      const failedAt = firstFailure(withMin);
      assert.ok(failedAt > 0, `seed ${seed}: never failed`);
      assert.ok(firstFailure(run(noMin, samples)) > 0, `seed ${seed}: never failed without min`);
    }
  });

  test("with all traffic on the canary (nothing to compare), 3% errors still fails min 99", () => {
    const judgements = run(
      minSuccess99,
      simulateReadings({
        seed: 4,
        rps: 50,
        intervals: 20,
        weight: () => 100,
        stable: behaviour(0.005),
        canary: behaviour(0.03),
      }),
    );
    const failedAt = firstFailure(judgements);
    assert.ok(failedAt > 0, "never failed");
    assert.match(
      judgements[failedAt]?.message ?? "",
      /success-rate: canary success 9\d\.\d% is below the minimum 99% \(guard evidence \S+ over \d+ canary requests.*release evidence \S+ ≥ 111, all metrics and guards together\)/,
    );
    const status = judgements[failedAt]?.metrics.find((m) => m.name === "success-rate");
    assert.equal(status?.verdict, "Failed");
    assert.ok((status.evidence ?? 0) >= 111, "the status shows the metric's evidence");
    assert.equal(
      status.bound,
      111,
      "one metric holds the whole release's budget but the catastrophic share",
    );
  });

  // At 90% weight stable's few requests make the comparison slow, so the bound decides.
  const latencyCases = [
    {
      max: 500,
      stableP99: 300,
      judgedOn: /judged on requests slower than 500 ms[;)]/,
    },
    {
      max: 300,
      stableP99: 250,
      judgedOn:
        /judged on requests slower than 500 ms, the smallest histogram bucket at or above 300 ms/,
    },
  ];
  for (const c of latencyCases) {
    test(`latency max ${c.max} ms: canary P99 800 ms vs stable ${c.stableP99} ms fails on the bound`, () => {
      for (const seed of seeds(1, 5)) {
        const judgements = run(
          latencyMax(c.max),
          simulateReadings({
            seed,
            rps: 50,
            intervals: 40,
            weight: () => 90,
            stable: behaviour(0.005, c.stableP99),
            canary: behaviour(0.005, 800),
          }),
        );
        const failedAt = firstFailure(judgements);
        assert.ok(failedAt > 0, `seed ${seed}: never failed`);
        const message = judgements[failedAt]?.message ?? "";
        // Whichever of the bound and the comparison with stable carries more of the evidence is named.
        assert.match(
          message,
          new RegExp(
            `p99-latency: (canary P99 is above the maximum ${c.max} ms|the canary is slower than stable)`,
          ),
        );
        if (/above the maximum/.test(message)) assert.match(message, c.judgedOn);
      }
    });
  }
});

describe("absolute guard: memory", () => {
  const samples = simulateReadings({
    seed: 11,
    rps: 100,
    intervals: 60,
    weight: steps,
    stable: behaviour(0.008, 300),
    canary: behaviour(0.014, 700),
  });
  const defaults = AnalysisSpec.parse({});

  test("round-trips through JSON and through a status merge patch with the same verdicts", () => {
    const direct = run(defaults, samples);
    assert.ok(
      direct.some((j) => j.verdict === "Failed"),
      "the scenario exercises a failure",
    );
    assert.deepEqual(run(defaults, samples, "json"), direct);
    assert.deepEqual(run(defaults, samples, "merge-patch"), direct);
    JSON.stringify(direct.at(-1)?.memory, (_k, v: unknown) => {
      assert.ok(v !== null && (typeof v !== "number" || Number.isFinite(v)), "finite, no null");
      return v;
    });
  });

  test("a memory written before the guards existed keeps its test and starts the guard fresh", () => {
    const through11 = run(defaults, samples.slice(0, 11));
    const { guards: _dropped, ...old } = through11[9]?.memory ?? {};
    const next = judgeSequential(defaults, old, samples[10] as MetricsSample);
    assert.doesNotMatch(next.message, /unreadable/);
    // The canary-vs-stable evidence continues where it was ...
    const errors = (j: JudgeMemory | undefined) => JSON.stringify(j?.errors);
    assert.equal(errors(next.memory), errors(through11[10]?.memory));
    // ... and the guard counts from this interval on.
    const guards = next.memory.guards as Record<string, { canary: { requests: number } }>;
    const interval = (samples[10]?.canary?.requests ?? 0) - (samples[9]?.canary?.requests ?? 0);
    assert.equal(guards["success-rate"]?.canary.requests, interval);
  });
});

describe("absolute guard: one burst's say", () => {
  test("an interval adds at most 2.5·√w to the guard, w being its burst discount", () => {
    const metric = minSuccess99.metrics[0];
    assert.ok(metric);
    const counts = (requests: number, errors: number) => ({
      requests,
      errors,
      buckets: [],
      observed: requests,
    });
    // A canary burst: 30% of 1000 requests fail; stable is clean.
    const canary = counts(1_000, 300);
    const stable = counts(19_000, 20);
    for (const kappa of [0, 0.1, 1]) {
      const guard = foldGuards([metric], {}, canary, stable, { errors: kappa, latency: 0 })[
        metric.name
      ];
      assert.ok(guard);
      const p0 = intervalNull(0.01, { requests: 19_000, bad: 20 }, 1 + kappa * 20);
      const weight = 1 / (1 + kappa * 1_000 * p0);
      const cap = 2.5 * Math.sqrt(weight);
      assert.ok(
        guard.logs.every((l) => l <= cap + 1e-12),
        `κ ${kappa}: ${guard.logs.join(", ")}`,
      );
      assert.ok(Math.abs(Math.max(...guard.logs) - cap) < 1e-12, `κ ${kappa}: reaches the cap`);
    }
  });
});
