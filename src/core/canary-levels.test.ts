import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import type { Action, Observed } from "./plan.ts";
import { headerRouteRollout, observed, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

const weights = (actions: readonly Action[]) =>
  actions.flatMap((a) => (a.kind === "setWeight" ? [a.canaryWeight] : []));

describe("drift: what completed steps set is put back", () => {
  test("a weight edited by hand during a pause is restored to the step's weight", () => {
    const r = rollout();
    r.status = {
      stableHash: "s1",
      canaryHash: "c2",
      currentStepIndex: 1,
      stepStartedAt: new Date(T0).toISOString(),
    };
    const plan = decide(r, observed({ routes: { canaryWeight: 0, headerRoutes: [] } }), T0 + 1000);
    assert.deepEqual(weights(plan.actions), [10]);
    assert.equal(plan.status.currentStepIndex, 1);
  });

  test("a header route removed by hand is added again", () => {
    const r = headerRouteRollout();
    r.status = { stableHash: "s1", canaryHash: "c2", currentStepIndex: 1, headerRoutes: ["beta"] };
    const plan = decide(r, observed(), T0);
    assert.ok(plan.actions.some((a) => a.kind === "setHeaderRoute" && a.name === "beta"));
  });
});

describe("workloadRef", () => {
  test("the referenced Deployment is scaled to 0 once the Rollout's stable pods are all available", () => {
    const r = rollout(undefined, { template: undefined, workloadRef: { name: "api" } });
    r.status = { stableHash: "s1" };
    const seen = (available: number, deploymentReplicas: number): Observed => ({
      templateHash: "s1",
      replicaSets: [rs("s1", 4, available)],
      selectors: { stable: "s1", canary: "s1" },
      routes: { canaryWeight: 0, headerRoutes: [] },
      workload: { replicas: deploymentReplicas },
    });
    const scaled = (o: Observed) =>
      decide(r, o, T0).actions.some((a) => a.kind === "scaleWorkload" && a.replicas === 0);
    assert.equal(scaled(seen(3, 4)), false, "not before every stable replica is available");
    assert.equal(scaled(seen(4, 4)), true);
    assert.equal(scaled(seen(4, 0)), false, "already scaled down");
  });
});

describe("a step reached within a reconcile is sized for its own weight", () => {
  test("a pause ending into setWeight 50 scales the canary for 50% and waits for it", () => {
    const r = rollout({
      canary: {
        stableService: "a",
        canaryService: "b",
        steps: [{ setWeight: 25 }, { pause: { duration: "2s" } }, { setWeight: 50 }, { pause: {} }],
      },
    });
    r.status = {
      stableHash: "s1",
      canaryHash: "c2",
      currentStepIndex: 1,
      stepStartedAt: new Date(T0).toISOString(),
    };
    const plan = decide(
      r,
      observed({ routes: undefined, replicaSets: [rs("s1", 3), rs("c2", 1)] }),
      T0 + 3000,
    );
    assert.equal(
      plan.status.currentStepIndex,
      2,
      "the pause is over; setWeight 50 is not done yet",
    );
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 2),
    );
  });
});

describe("a route its parents have not accepted", () => {
  test("holds setWeight until the router says the route is live", () => {
    const r = rollout();
    r.status = {
      stableHash: "s1",
      canaryHash: "c2",
      currentStepIndex: 0,
      stepStartedAt: new Date(T0).toISOString(),
    };
    const pending = decide(
      r,
      observed({
        routes: {
          canaryWeight: 10,
          headerRoutes: [],
          pending: 'Gateway "edge" has not accepted the route',
        },
      }),
      T0,
    );
    assert.equal(pending.status.currentStepIndex, 0);
    assert.match(pending.status.message ?? "", /has not accepted/);
    assert.equal(
      decide(r, observed({ routes: { canaryWeight: 10, headerRoutes: [] } }), T0).status
        .currentStepIndex,
      1,
    );
  });
});
