import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import { analysisToSample } from "./metrics-request.ts";
import type { Observed } from "./plan.ts";
import type { Rollout } from "../api/rollout.ts";
import type { MetricsSample, VersionCounters } from "../analysis/judge.ts";
import { observed, pendingKinds, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

const counters = (requests: number, errors: number): VersionCounters => ({
  requests,
  errors,
  latencyBuckets: [
    { le: 100, count: requests },
    { le: Number.POSITIVE_INFINITY, count: requests },
  ],
});

function analysed(judge: "threshold" | "sequential"): Rollout {
  const r = rollout({
    canary: {
      stableService: "api-stable",
      canaryService: "api-canary",
      trafficRouting: { istio: { virtualService: { name: "api-vs" } } },
      analysis: {
        judge,
        interval: "30s",
        metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }],
      },
      steps: [{ setWeight: 50 }, { pause: { duration: "10m" } }, { setWeight: 100 }],
    },
  });
  r.status = {
    stableHash: "s1",
    canaryHash: "c2",
    currentStepIndex: 1,
    stepStartedAt: new Date(T0).toISOString(),
    lastProgressAt: new Date(T0).toISOString(),
  };
  return r;
}

const seen = (metrics?: MetricsSample): Observed =>
  observed({
    replicaSets: [rs("s1", 4), rs("c2", 2)],
    routes: { canaryWeight: 50, headerRoutes: [] },
    metrics,
  });

/** Feeds readings 30 s apart through decide(), carrying status like the controller does. */
function run(
  r: Rollout,
  readings: { canary?: VersionCounters; stable?: VersionCounters; error?: string }[],
) {
  let plan = decide(r, seen(), T0);
  readings.forEach((reading, i) => {
    r.status = plan.status;
    const now = T0 + (i + 1) * 30_000;
    plan = decide(r, seen({ at: new Date(now).toISOString(), ...reading }), now);
  });
  return plan;
}

describe("invariant 3: missing data is not evidence", () => {
  const cases: {
    name: string;
    reading: { canary?: VersionCounters; stable?: VersionCounters; error?: string };
    reason: RegExp;
  }[] = [
    {
      name: "no traffic",
      reading: { canary: counters(0, 0), stable: counters(0, 0) },
      reason: /no traffic/i,
    },
    {
      name: "Prometheus unreachable",
      reading: { error: "Prometheus at http://127.0.0.1:1 is unreachable: ECONNREFUSED" },
      reason: /unreachable/,
    },
    { name: "no series for the canary", reading: { stable: counters(100, 0) }, reason: /canary/ },
  ];
  for (const judge of ["threshold", "sequential"] as const) {
    for (const c of cases) {
      test(`${judge}: ${c.name} pauses with the reason, and neither rolls back nor advances`, () => {
        const plan = run(analysed(judge), [
          { canary: counters(0, 0), stable: counters(0, 0) },
          c.reading,
          c.reading,
          c.reading,
        ]);
        assert.equal(plan.status.analysis?.verdict, "Inconclusive");
        assert.equal(plan.status.phase, "Paused");
        assert.match(plan.status.message ?? "", c.reason);
        assert.equal(plan.status.abortedAt, undefined);
        assert.equal(
          plan.status.currentStepIndex,
          1,
          "the 10m pause is not over, and nothing skipped it",
        );
      });
    }
  }

  test("an inconclusive analysis holds a step whose time is up", () => {
    const r = analysed("threshold");
    let plan = decide(
      r,
      seen({ at: new Date(T0).toISOString(), canary: counters(0, 0), stable: counters(0, 0) }),
      T0,
    );
    r.status = plan.status;
    const late = T0 + 11 * 60_000;
    plan = decide(
      r,
      seen({ at: new Date(late).toISOString(), canary: counters(0, 0), stable: counters(0, 0) }),
      late,
    );
    assert.equal(plan.status.currentStepIndex, 1);
    assert.match(plan.status.message ?? "", /inconclusive/);
  });
});

describe("analysis verdicts drive the release", () => {
  test("threshold: a canary under 99% success is rolled back, weights first, message names the metric", () => {
    const plan = run(analysed("threshold"), [
      { canary: counters(0, 0), stable: counters(0, 0) },
      { canary: counters(1000, 60), stable: counters(1000, 5) },
    ]);
    assert.equal(plan.status.phase, "Degraded");
    assert.match(plan.status.message ?? "", /success-rate/);
    assert.deepEqual(
      plan.actions.filter((a) => a.kind === "setWeight"),
      [{ kind: "setWeight", canaryWeight: 0 }],
    );
    assert.ok(
      !plan.actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 0,
      ),
    );
    assert.ok(pendingKinds(plan).includes("rolledBack"));
    assert.ok(plan.events.some((e) => e.type === "Warning" && e.reason === "RolledBack"));
  });

  test("sequential: 5% canary errors against 0.5% stable roll back", () => {
    const readings = Array.from({ length: 12 }, (_, i) => ({
      canary: counters(750 * i, Math.round(37.5 * i)),
      stable: counters(750 * i, Math.round(3.75 * i)),
    }));
    const plan = run(analysed("sequential"), readings);
    assert.equal(plan.status.phase, "Degraded");
    assert.ok(
      (plan.status.analysis?.metrics.find((m) => m.name === "success-rate")?.evidence ?? 0) >= 100,
    );
  });

  test("sequential: equal error rates keep the release going", () => {
    const readings = Array.from({ length: 12 }, (_, i) => ({
      canary: counters(750 * i, Math.round(3.75 * i)),
      stable: counters(750 * i, Math.round(3.75 * i)),
    }));
    const plan = run(analysed("sequential"), readings);
    assert.equal(plan.status.abortedAt, undefined);
    assert.notEqual(plan.status.analysis?.verdict, "Failed");
  });

  test("analysis state survives a restart: status through JSON gives the same decision", () => {
    const readings = Array.from({ length: 6 }, (_, i) => ({
      canary: counters(750 * i, Math.round(20 * i)),
      stable: counters(750 * i, Math.round(3.75 * i)),
    }));
    const uninterrupted = run(analysed("sequential"), readings);
    const r = analysed("sequential");
    const half = run(r, readings.slice(0, 3));
    r.status = JSON.parse(JSON.stringify(half.status)) as Rollout["status"];
    let plan = half;
    readings.slice(3).forEach((reading, i) => {
      const now = T0 + (i + 4) * 30_000;
      plan = decide(r, seen({ at: new Date(now).toISOString(), ...reading }), now);
      r.status = plan.status;
    });
    assert.deepEqual(plan.status.analysis, uninterrupted.status.analysis);
  });
});

describe("adapters are asked for metrics only every interval", () => {
  test("analysisToSample follows interval and stops once aborted", () => {
    const r = analysed("sequential");
    assert.ok(analysisToSample(r, "c2", T0), "first reading at once");
    r.status = {
      ...r.status,
      analysis: {
        verdict: "Running",
        startedAt: new Date(T0).toISOString(),
        lastSampleAt: new Date(T0).toISOString(),
        conclusiveSeconds: 0,
        samples: 1,
        metrics: [],
      },
    };
    assert.equal(analysisToSample(r, "c2", T0 + 29_000), undefined);
    assert.ok(analysisToSample(r, "c2", T0 + 30_000));
    r.status = { ...r.status, abortedAt: new Date(T0).toISOString() };
    assert.equal(analysisToSample(r, "c2", T0 + 60_000), undefined);
  });
});

describe("analysis: a header route no request carries", () => {
  const beta = (): Rollout => {
    const r = rollout({
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        trafficRouting: { istio: { virtualService: { name: "api-vs" } } },
        analysis: {
          interval: "30s",
          minRequests: 50,
          metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }],
        },
        steps: [
          { setHeaderRoute: { name: "beta", match: [{ header: "x-group", exact: "beta" }] } },
          { setWeight: 20 },
          { pause: {} },
        ],
      },
    });
    r.status = {
      stableHash: "s1",
      canaryHash: "c2",
      currentStepIndex: 0,
      headerRoutes: ["beta"],
      stepStartedAt: new Date(T0).toISOString(),
      lastProgressAt: new Date(T0).toISOString(),
    };
    return r;
  };
  const routed = (canary: VersionCounters, at: number): Observed =>
    observed({
      replicaSets: [rs("s1", 4), rs("c2", 1)],
      routes: { canaryWeight: 0, headerRoutes: ["beta"] },
      metrics: { at: new Date(at).toISOString(), canary, stable: counters(5_000, 0) },
    });
  /** Two readings 30 s apart, the canary's counters at each. */
  const afterTwoReadings = (first: VersionCounters, second: VersionCounters) => {
    const r = beta();
    r.status = decide(r, routed(first, T0), T0).status;
    return decide(r, routed(second, T0 + 30_000), T0 + 30_000);
  };
  const weights = (plan: ReturnType<typeof decide>) =>
    plan.actions.flatMap((a) => (a.kind === "setWeight" ? [a.canaryWeight] : []));

  test("a canary that received no request at all is given its first weight, not held for ever", () => {
    const plan = afterTwoReadings(counters(0, 0), counters(0, 0));
    assert.equal(plan.status.analysis?.verdict, "Inconclusive");
    assert.deepEqual(weights(plan), [20]);
  });

  test("a canary that the header route feeds, but too little to judge, gets no weight yet", () => {
    const plan = afterTwoReadings(counters(0, 0), counters(10, 0));
    assert.equal(plan.status.analysis?.verdict, "Inconclusive");
    assert.deepEqual(weights(plan), []);
    assert.match(plan.status.message ?? "", /inconclusive/);
  });
});

describe("analysis time", () => {
  test("a reading after a long gap counts one interval toward the conclusive time, not the gap", () => {
    const r = analysed("sequential");
    const healthy = { canary: counters(1_000, 0), stable: counters(1_000, 0) };
    let plan = run(r, [healthy]);
    const before = plan.status.analysis?.conclusiveSeconds ?? 0;
    // The next reading comes 10 minutes later (Prometheus was away, the controller restarted).
    r.status = plan.status;
    const later = T0 + 30_000 + 600_000;
    plan = decide(
      r,
      seen({
        at: new Date(later).toISOString(),
        canary: counters(21_000, 0),
        stable: counters(21_000, 0),
      }),
      later,
    );
    assert.equal(plan.status.analysis?.samples, 2);
    assert.equal((plan.status.analysis?.conclusiveSeconds ?? 0) - before, 30);
  });
});
