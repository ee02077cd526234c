import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import type { Action, Observed } from "./plan.ts";
import type { Rollout, RolloutInput, RolloutStatus } from "../api/rollout.ts";
import { observed, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

/** Edge cases around DESIGN §3's invariants, each found by probing decide(). */

const iso = (offsetMs = 0) => new Date(T0 + offsetMs).toISOString();
const weights = (actions: readonly Action[]) =>
  actions.flatMap((a) => (a.kind === "setWeight" ? [a.canaryWeight] : []));
const scaledTo = (actions: readonly Action[], hash: string) =>
  actions.flatMap((a) => (a.kind === "scaleReplicaSet" && a.hash === hash ? [a.replicas] : []));

type Steps = NonNullable<NonNullable<RolloutInput["spec"]["strategy"]["canary"]>["steps"]>;

function tenReplicas(steps: Steps, status: Partial<RolloutStatus>): Rollout {
  const r = rollout(
    {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        trafficRouting: { istio: { virtualService: { name: "api-vs" } } },
        steps,
      },
    },
    { replicas: 10 },
  );
  r.status = { stableHash: "s1", canaryHash: "c2", stepStartedAt: iso(), ...status };
  return r;
}

describe("a waiting Rollout's status stays still (no write loop on its own status)", () => {
  const cases: { name: string; r: () => Rollout; seen: Observed }[] = [
    {
      name: "indefinite pause",
      r: () => tenReplicas([{ setWeight: 10 }, { pause: {} }], { currentStepIndex: 1 }),
      seen: observed({
        replicaSets: [rs("s1", 10), rs("c2", 1)],
        routes: { canaryWeight: 10, headerRoutes: [] },
      }),
    },
    {
      name: "timed pause",
      r: () =>
        tenReplicas([{ setWeight: 10 }, { pause: { duration: "1h" } }], { currentStepIndex: 1 }),
      seen: observed({
        replicaSets: [rs("s1", 10), rs("c2", 1)],
        routes: { canaryWeight: 10, headerRoutes: [] },
      }),
    },
    {
      name: "manual pause",
      r: () =>
        tenReplicas([{ setWeight: 10 }, { setWeight: 20 }], {
          currentStepIndex: 1,
          manualPause: true,
        }),
      seen: observed({
        replicaSets: [rs("s1", 10), rs("c2", 2)],
        routes: { canaryWeight: 10, headerRoutes: [] },
      }),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = c.r();
      const first = decide(r, c.seen, T0 + 1000);
      r.status = first.status;
      const second = decide(r, c.seen, T0 + 2500);
      assert.deepEqual(second.status, first.status);
      assert.deepEqual(second.actions, []);
    });
  }

  test("blue/green waiting for auto-promotion", () => {
    const r = rollout({
      blueGreen: { activeService: "a", previewService: "p", autoPromotionSeconds: 600 },
    });
    r.status = { stableHash: "s1", canaryHash: "c2" };
    const seen: Observed = {
      templateHash: "c2",
      replicaSets: [rs("s1", 4), rs("c2", 4)],
      selectors: { stable: "s1", canary: "c2" },
    };
    const first = decide(r, seen, T0);
    r.status = first.status;
    assert.deepEqual(decide(r, seen, T0 + 1500).status, first.status);
  });
});

describe("invariant 1: weight never exceeds what available canary pods can serve", () => {
  test("promote past a setWeight 50 that still waits for pods: the weight follows capacity (1 of 10 pods: 10%)", () => {
    const r = tenReplicas([{ setWeight: 50 }, { pause: {} }], {
      currentStepIndex: 0,
      command: { name: "promote", id: "p" },
    });
    const plan = decide(
      r,
      observed({
        replicaSets: [rs("s1", 10), rs("c2", 5, 1)],
        routes: { canaryWeight: 0, headerRoutes: [] },
      }),
      T0,
    );
    assert.deepEqual(weights(plan.actions), [10]);
  });

  test("canary pods lost after setWeight 50: the weight comes down to what is left", () => {
    const r = tenReplicas([{ setWeight: 50 }, { pause: {} }], { currentStepIndex: 1 });
    const plan = decide(
      r,
      observed({
        replicaSets: [rs("s1", 10), rs("c2", 5, 2)],
        routes: { canaryWeight: 50, headerRoutes: [] },
      }),
      T0,
    );
    assert.deepEqual(weights(plan.actions), [20]);
  });

  test("descending steps: the canary keeps the pods for 50% until the router confirms 10%", () => {
    const r = tenReplicas([{ setWeight: 50 }, { setWeight: 10 }, { pause: {} }], {
      currentStepIndex: 1,
    });
    const plan = decide(
      r,
      observed({
        replicaSets: [rs("s1", 10), rs("c2", 5)],
        routes: { canaryWeight: 50, headerRoutes: [] },
      }),
      T0,
    );
    assert.deepEqual(weights(plan.actions), [10]);
    assert.ok(
      !scaledTo(plan.actions, "c2").some((n) => n < 5),
      "no scale-down before the weight drops",
    );
    const after = decide(
      r,
      observed({
        replicaSets: [rs("s1", 10), rs("c2", 5)],
        routes: { canaryWeight: 10, headerRoutes: [] },
      }),
      T0 + 1000,
    );
    assert.deepEqual(scaledTo(after.actions, "c2"), [1]);
  });

  test("setCanaryScale to 0 while the canary has 50% does not remove its pods", () => {
    const r = tenReplicas([{ setWeight: 50 }, { setCanaryScale: { replicas: 0 } }, { pause: {} }], {
      currentStepIndex: 1,
    });
    const plan = decide(
      r,
      observed({
        replicaSets: [rs("s1", 10), rs("c2", 5)],
        routes: { canaryWeight: 50, headerRoutes: [] },
      }),
      T0,
    );
    assert.ok(!scaledTo(plan.actions, "c2").some((n) => n < 5));
  });

  test("a new template while the canary Service still serves the replaced canary: traffic leaves it before the selector moves", () => {
    const r = tenReplicas([{ setWeight: 50 }, { pause: {} }], {
      currentStepIndex: 1,
      canaryHash: "b2",
    });
    const plan = decide(
      r,
      observed({
        templateHash: "c3",
        replicaSets: [rs("s1", 10), rs("b2", 5), rs("c3", 5)],
        selectors: { stable: "s1", canary: "b2" },
        routes: { canaryWeight: 50, headerRoutes: ["beta"] },
      }),
      T0,
    );
    assert.deepEqual(weights(plan.actions), [0]);
    assert.ok(plan.actions.some((a) => a.kind === "removeHeaderRoute" && a.name === "beta"));
    assert.ok(!plan.actions.some((a) => a.kind === "setServiceSelector" && a.role === "canary"));
  });
});

describe("holds stop traffic increases, not only step completion", () => {
  test("aviary pause while setWeight 50 waits for pods: when they are ready, the weight stays", () => {
    const r = tenReplicas([{ setWeight: 10 }, { setWeight: 50 }, { pause: {} }], {
      currentStepIndex: 1,
      manualPause: true,
    });
    const plan = decide(
      r,
      observed({
        replicaSets: [rs("s1", 10), rs("c2", 5)],
        routes: { canaryWeight: 10, headerRoutes: [] },
      }),
      T0,
    );
    assert.deepEqual(weights(plan.actions), []);
    assert.equal(plan.status.phase, "Paused");
  });
});

describe("invariant 2: a rollback plan never sends the canary traffic", () => {
  test("analysis fails while a completed header route is missing: no header route is re-added", () => {
    const r = rollout({
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        trafficRouting: { istio: { virtualService: { name: "api-vs" } } },
        analysis: {
          judge: "threshold",
          interval: "30s",
          metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }],
        },
        steps: [
          { setHeaderRoute: { name: "beta", match: [{ header: "x", exact: "y" }] } },
          { pause: {} },
        ],
      },
    });
    const failed = {
      verdict: "Failed" as const,
      startedAt: iso(),
      conclusiveSeconds: 60,
      samples: 3,
      metrics: [],
      message: "success-rate too low",
    };
    r.status = {
      stableHash: "s1",
      canaryHash: "c2",
      currentStepIndex: 1,
      headerRoutes: ["beta"],
      analysis: failed,
    };
    const plan = decide(r, observed(), T0);
    assert.equal(plan.status.phase, "Degraded");
    assert.ok(!plan.actions.some((a) => a.kind === "setHeaderRoute"), JSON.stringify(plan.actions));
  });
});

describe("commands", () => {
  test("retry after a promoteFull that was aborted starts from the first step, not a promotion", () => {
    const r = tenReplicas([{ setWeight: 10 }, { pause: {} }], {
      currentStepIndex: 0,
      promoteFull: true,
      abortedAt: iso(),
      abortReason: "deadline",
      command: { name: "retry", id: "r" },
    });
    const plan = decide(r, observed({ replicaSets: [rs("s1", 10), rs("c2", 1)] }), T0 + 1000);
    assert.equal(plan.status.promoteFull, undefined);
    assert.ok(!plan.actions.some((a) => a.kind === "setServiceSelector" && a.role === "stable"));
    assert.deepEqual(weights(plan.actions), [10]);
  });
});

describe("scheduled scale-downs wait for Services to let go", () => {
  test("a replaced canary still selected by the canary Service keeps its pods and its schedule", () => {
    const r = tenReplicas([{ setWeight: 10 }, { pause: {} }], {
      currentStepIndex: 0,
      canaryHash: "c3",
      scaleDownAt: [{ hash: "b2", at: iso(-60_000) }],
    });
    const seen = observed({
      templateHash: "c3",
      replicaSets: [rs("s1", 10), rs("b2", 1), rs("c3", 1, 0)],
      selectors: { stable: "s1", canary: "b2" },
      routes: { canaryWeight: 0, headerRoutes: [] },
    });
    const held = decide(r, seen, T0);
    assert.deepEqual(scaledTo(held.actions, "b2"), []);
    assert.deepEqual(held.status.scaleDownAt, [{ hash: "b2", at: iso(-60_000) }]);
    const freed = decide(r, { ...seen, selectors: { stable: "s1", canary: "c3" } }, T0);
    assert.deepEqual(scaledTo(freed.actions, "b2"), [0]);
  });
});
