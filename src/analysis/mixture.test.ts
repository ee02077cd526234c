import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  addInterval,
  INTERVAL_LOG_CAP,
  intervalCap,
  logEvidenceWorse,
  noEvidence,
  WORSE_RATIOS,
  WORSE_WEIGHTS,
} from "./mixture.ts";

/** log C(n, k) by summing logs (n is small here). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

describe("mixture: the rollback test's interval factors", () => {
  test("the cap shrinks as √w: a burst adds at most 2.5·√w to any alternative", () => {
    // A canary burst: 200 of 300 errors on 5% of the traffic.
    for (const weight of [1, 0.5, 0.25, 0.04]) {
      const e = addInterval(noEvidence(), 1_000, 19_000, 200, 100, weight);
      const cap = INTERVAL_LOG_CAP * Math.sqrt(weight);
      assert.ok(Math.abs(intervalCap(weight) - cap) < 1e-12);
      assert.ok(
        e.worse.every((l) => l <= cap + 1e-12),
        `weight ${weight}: ${e.worse.join(", ")}`,
      );
      assert.ok(Math.abs(Math.max(...e.worse) - cap) < 1e-12, "the burst reaches the cap");
    }
  });

  test("each capped, discounted interval factor is an e-value under the binomial null", () => {
    // E[min(e^cap, e^{w·ℓ})] ≤ 1 for every alternative, summed exactly over x ~ Bin(m, q).
    for (const { m, q } of [
      { m: 3, q: 0.05 },
      { m: 40, q: 0.1 },
      { m: 150, q: 0.2 },
      { m: 60, q: 0.5 },
    ]) {
      for (const weight of [1, 0.6, 0.1]) {
        const expected = WORSE_RATIOS.map(() => 0);
        for (let x = 0; x <= m; x++) {
          const p = Math.exp(logChoose(m, x) + x * Math.log(q) + (m - x) * Math.log(1 - q));
          // Requests in proportion q : 1 − q, so the interval's canary share is q.
          const e = addInterval(noEvidence(), q * 1e6, (1 - q) * 1e6, x, m - x, weight);
          e.worse.forEach((l, j) => (expected[j] = (expected[j] ?? 0) + p * Math.exp(l)));
        }
        for (const [j, value] of expected.entries())
          assert.ok(
            value <= 1 + 1e-9,
            `m ${m}, q ${q}, w ${weight}, θ ${WORSE_RATIOS[j]}: ${value}`,
          );
      }
    }
  });

  test("the prior over alternatives leans on θ = 2–3 and sums to 1", () => {
    assert.ok(Math.abs(WORSE_WEIGHTS.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const at = (ratio: number) => WORSE_WEIGHTS[WORSE_RATIOS.indexOf(ratio as never)] ?? 0;
    assert.ok(at(3) > at(1.5) && at(3) > at(5) && at(5) > at(10), WORSE_WEIGHTS.join(", "));
    // Evidence for θ = 3 alone counts with θ = 3's weight.
    const evidence = noEvidence();
    evidence.worse = WORSE_RATIOS.map((t) => (t === 3 ? 10 : -100));
    assert.ok(Math.abs(logEvidenceWorse(evidence) - (10 + Math.log(at(3)))) < 1e-9);
  });
});
