import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AnalysisSpec, type AnalysisSpec as Spec } from "../api/rollout.ts";
import { binomial, seededRandom, type Random } from "../sim/random.ts";
import { discountFor, freshDispersion, updateDispersion } from "./dispersion.ts";
import type { JudgeMemory, Judgement, MetricsSample } from "./judge.ts";
import { judgeSequential, releaseShares } from "./sequential.ts";

/** One interval of both versions: requests and errors. */
interface Counts {
  nC: number;
  eC: number;
  nS: number;
  eS: number;
}

/** Cumulative readings (30 s apart) from interval counts; the first reading is all zeros. */
function readings(intervals: readonly Counts[]): MetricsSample[] {
  const c = { requests: 0, errors: 0 };
  const s = { requests: 0, errors: 0 };
  const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 30_000).toISOString();
  const out: MetricsSample[] = [
    {
      at: at(0),
      canary: { ...c, latencyBuckets: [] },
      stable: { ...s, latencyBuckets: [] },
    },
  ];
  intervals.forEach((k, i) => {
    c.requests += k.nC;
    c.errors += k.eC;
    s.requests += k.nS;
    s.errors += k.eS;
    out.push({
      at: at(i + 1),
      canary: { ...c, latencyBuckets: [] },
      stable: { ...s, latencyBuckets: [] },
    });
  });
  return out;
}

function run(spec: Spec, samples: readonly MetricsSample[]): Judgement[] {
  let memory: JudgeMemory | undefined;
  return samples.map((sample) => {
    const j = judgeSequential(spec, memory, sample);
    memory = JSON.parse(JSON.stringify(j.memory)) as JudgeMemory;
    return j;
  });
}

const successOnly = AnalysisSpec.parse({
  metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }],
});
const noMin = AnalysisSpec.parse({ metrics: [{ name: "success-rate", builtin: "successRate" }] });
const defaults = AnalysisSpec.parse({});

/** Gamma(mean 1, CV 1/√k) for k ≥ 1 (Marsaglia–Tsang). */
function gamma(random: Random, cv: number): number {
  const k = 1 / (cv * cv);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z =
      Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
    const v = (1 + c * z) ** 3;
    if (v > 0 && Math.log(Math.max(random(), 1e-12)) < 0.5 * z * z + d - d * v + d * Math.log(v))
      return (d * v) / k;
  }
}

/** A release at `rps` over 30 s intervals, each version's error rate wandering with CV `cv`. */
function bursty(
  seed: number,
  opts: { rps: number; p0: number; theta?: number; cv: number; intervals?: number },
): Counts[] {
  const random = seededRandom(seed);
  const steps = [5, 10, 20, 50];
  return Array.from({ length: opts.intervals ?? 40 }, (_, i) => {
    const weight = (steps[Math.min(3, Math.floor(i / 10))] ?? 50) / 100;
    const n = opts.rps * 30;
    const nC = Math.round(n * weight);
    const nS = n - nC;
    const rate = (p: number) => Math.min(1, p * (opts.cv > 0 ? gamma(random, opts.cv) : 1));
    return {
      nC,
      nS,
      eC: binomial(random, nC, rate(opts.p0 * (opts.theta ?? 1))),
      eS: binomial(random, nS, rate(opts.p0)),
    };
  });
}

describe("sequential judge: same-interval comparison", () => {
  test("a shared outage at changing weights adds no evidence against the canary, holds, then resumes", () => {
    // 10 quiet intervals at 5%, then an outage hitting both (15% errors) while the weight is 20%.
    const quiet = (w: number): Counts => ({ nC: 15 * w, eC: 0, nS: 15 * (100 - w), eS: 1 });
    const outage = (w: number): Counts => ({
      nC: 15 * w,
      eC: Math.round(0.15 * 15 * w),
      nS: 15 * (100 - w),
      eS: Math.round(0.15 * 15 * (100 - w)),
    });
    const intervals = [
      ...Array.from({ length: 10 }, () => quiet(5)),
      outage(20),
      outage(20),
      outage(20),
      ...Array.from({ length: 5 }, () => quiet(20)),
    ];
    const judgements = run(defaults, readings(intervals));
    assert.ok(
      judgements.every((j) => j.verdict !== "Failed"),
      "the canary was blamed for a shared outage",
    );
    for (const j of judgements.slice(11, 14)) {
      assert.equal(j.verdict, "Inconclusive");
      assert.match(j.message, /shared outage|stable is failing too/);
      assert.equal(j.conclusive, false);
    }
    const success = judgements[13]?.metrics.find((m) => m.name === "success-rate");
    assert.ok((success?.evidence ?? 0) < 2, `evidence ${success?.evidence} after the outage`);
    assert.notEqual(judgements.at(-1)?.verdict, "Inconclusive", "the release resumes");
  });

  test("a shared multiplicative incident (both versions ×10) adds no evidence", () => {
    const normal: Counts = { nC: 300, eC: 1, nS: 2700, eS: 9 };
    const incident: Counts = { nC: 300, eC: 10, nS: 2700, eS: 90 };
    const judgements = run(noMin, readings([normal, normal, incident, incident, normal]));
    const evidence = judgements.map(
      (j) => j.metrics.find((m) => m.name === "success-rate")?.evidence ?? 1,
    );
    assert.ok(
      evidence.every((e) => e <= 1),
      `evidence rose: ${evidence.join(", ")}`,
    );
  });
});

describe("sequential judge: burst discount", () => {
  test("the discount is fixed before the interval's counts: same requests, different errors, same weight", () => {
    let state = freshDispersion();
    for (let i = 0; i < 10; i++) state = updateDispersion(state, 500, 9500, i % 2 ? 20 : 0, 100);
    const before = discountFor(state, 1000, 9000);
    // discountFor sees only request counts: whatever errors the interval then brings.
    assert.equal(discountFor(state, 1000, 9000), before);
    const a = run(noMin, readings([...bursty(1, { rps: 500, p0: 0.01, cv: 0.5, intervals: 8 })]));
    const prefix = bursty(1, { rps: 500, p0: 0.01, cv: 0.5, intervals: 7 });
    const lastA = bursty(1, { rps: 500, p0: 0.01, cv: 0.5, intervals: 8 }).at(-1) as Counts;
    const b = run(noMin, readings([...prefix, { ...lastA, eC: lastA.nC, eS: 0 }]));
    const weight = (j: Judgement | undefined) =>
      (j?.memory.discounts as { errors: number } | undefined)?.errors;
    assert.equal(weight(a.at(-1)), weight(b.at(-1)), "the last interval's errors set its weight");
  });

  test("bursty errors are discounted and say so in status; iid errors are barely discounted", () => {
    const last = (counts: Counts[]) => run(noMin, readings(counts)).at(-1);
    const burstyEnd = last(bursty(3, { rps: 500, p0: 0.01, cv: 1, intervals: 30 }));
    const status = burstyEnd?.metrics.find((m) => m.name === "success-rate");
    assert.ok(status?.discount !== undefined && status.discount < 0.3, `${status?.discount}`);
    assert.match(status.message ?? "", /errors are bursty: evidence counted ×0\.\d+/);
    const iidEnd = last(bursty(3, { rps: 50, p0: 0.005, cv: 0, intervals: 30 }));
    const iid = iidEnd?.metrics.find((m) => m.name === "success-rate");
    assert.ok((iid?.discount ?? 1) > 0.7, `iid discount ${iid?.discount}`);
  });

  test("A/A with bursty errors (CV 0.5, p0 1%, 500 rps): at most 2 of 40 seeds roll back", () => {
    let rollbacks = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const js = run(defaults, readings(bursty(seed, { rps: 500, p0: 0.01, cv: 0.5 })));
      if (js.some((j) => j.verdict === "Failed")) rollbacks++;
    }
    assert.ok(rollbacks <= 2, `${rollbacks} of 40 healthy canaries rolled back`);
  });

  test("θ = 3 under bursts (CV 0.5, p0 0.5%, 50 rps) is still rolled back on most seeds", () => {
    let caught = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const counts = bursty(seed, { rps: 50, p0: 0.005, theta: 3, cv: 0.5 });
      if (run(defaults, readings(counts)).some((j) => j.verdict === "Failed")) caught++;
    }
    assert.ok(caught >= 18, `caught ${caught} of 20`);
  });
});

describe("sequential judge: one bound per release", () => {
  test("error rates get 4/5 of 0.9·α and latency 1/5, fixed by the spec and shown as each metric's bound", () => {
    const samples = readings(bursty(2, { rps: 50, p0: 0.005, cv: 0, intervals: 3 }));
    const two = run(defaults, samples).at(-1);
    assert.deepEqual(
      two?.metrics.map((m) => m.bound),
      [139, 556],
    );
    const one = run(successOnly, samples).at(-1);
    assert.deepEqual(
      one?.metrics.map((m) => m.bound),
      [111],
    );
    const three = AnalysisSpec.parse({
      metrics: [
        { name: "errors-a", builtin: "successRate", min: 99 },
        { name: "errors-b", builtin: "successRate", min: 98 },
        { name: "p99-latency", builtin: "latencyP99", max: 500 },
      ],
    });
    assert.deepEqual(
      run(three, samples)
        .at(-1)
        ?.metrics.map((m) => m.bound),
      [250, 250, 1000],
    );
  });

  test("the shares sum to 1 whatever built-ins the spec lists (so the average is an e-process)", () => {
    const sr = { name: "s", builtin: "successRate" as const };
    const lat = { name: "l", builtin: "latencyP99" as const };
    for (const metrics of [[sr], [lat], [sr, lat], [lat, sr, sr], [lat, lat]]) {
      const shares = releaseShares(metrics);
      assert.equal(shares.length, metrics.length);
      assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-12, shares.join(","));
    }
  });

  test("a failure names the release's combined evidence", () => {
    const counts = bursty(5, { rps: 100, p0: 0.005, theta: 10, cv: 0, intervals: 30 });
    const failed = run(defaults, readings(counts)).find((j) => j.verdict === "Failed");
    assert.ok(failed, "θ = 10 was never rolled back");
    assert.match(
      failed.message,
      /release evidence \S+ ≥ 111, all metrics and guards together|catastrophic/,
    );
  });
});

describe("sequential judge: min guard in the same intervals", () => {
  test("stable breaking min too holds the release (stable is failing too), then it resumes", () => {
    const bad: Counts = { nC: 300, eC: 6, nS: 2700, eS: 54 }; // both 2%
    const good: Counts = { nC: 300, eC: 1, nS: 2700, eS: 8 };
    const judgements = run(successOnly, readings([good, good, bad, bad, bad, bad, good, good]));
    assert.ok(judgements.every((j) => j.verdict !== "Failed"));
    for (const j of judgements.slice(3, 7)) {
      assert.equal(j.verdict, "Inconclusive");
      assert.match(j.message, /stable is failing too, so the canary is not blamed/);
      assert.equal(j.conclusive, false);
    }
    assert.ok(["Running", "Passed"].includes(judgements.at(-1)?.verdict ?? ""), "it resumes");
    assert.equal(judgements.at(-1)?.conclusive, true);
  });

  test("a canary below min while stable meets it in the same intervals is rolled back", () => {
    const interval: Counts = { nC: 1500, eC: 45, nS: 1500, eS: 6 }; // 3% vs 0.4%
    const judgements = run(successOnly, readings(Array.from({ length: 10 }, () => interval)));
    assert.ok(judgements.some((j) => j.verdict === "Failed"));
  });
});

describe("sequential judge: catastrophic guard", () => {
  const first = (counts: Counts) => run(defaults, readings([counts])).at(-1);

  test("rolls back at once when the canary fails badly over enough requests", () => {
    const j = first({ nC: 100, eC: 60, nS: 1900, eS: 2 });
    assert.equal(j?.verdict, "Failed");
    assert.match(j.message, /catastrophic limit of 20%/);
  });

  test("needs enough canary requests", () => {
    const j = first({ nC: 10, eC: 10, nS: 1900, eS: 2 });
    assert.notEqual(j?.verdict, "Failed");
  });

  test("does not fire when stable is just as catastrophic in the same interval", () => {
    const j = first({ nC: 100, eC: 60, nS: 1900, eS: 1100 });
    assert.equal(j?.verdict, "Inconclusive");
    assert.match(j.message, /shared outage/);
  });
});
