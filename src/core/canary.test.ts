import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import type { Action, Observed } from "./plan.ts";
import type { Rollout, RolloutStatus } from "../api/rollout.ts";
import {
  headerRouteRollout,
  observed,
  pendingKinds,
  rollout,
  rs,
  T0,
} from "../../test/fixtures/rollouts.ts";

const releasing = (status: Partial<RolloutStatus> = {}): Rollout => {
  const r = rollout();
  r.status = {
    stableHash: "s1",
    canaryHash: "c2",
    currentStepIndex: 0,
    stepStartedAt: new Date(T0).toISOString(),
    lastProgressAt: new Date(T0).toISOString(),
    ...status,
  };
  return r;
};

const weights = (actions: readonly Action[]) =>
  actions.flatMap((a) => (a.kind === "setWeight" ? [a.canaryWeight] : []));
const kinds = (actions: readonly Action[]) => actions.map((a) => a.kind);

describe("canary: first deploy and steady state", () => {
  test("a new Rollout makes its template stable at full size; Services move to it once its pods serve", () => {
    const empty: Observed = {
      templateHash: "s1",
      replicaSets: [],
      selectors: {},
      routes: { canaryWeight: 0, headerRoutes: [] },
    };
    const plan = decide(rollout(), empty, T0);
    assert.equal(plan.status.stableHash, "s1");
    assert.deepEqual(plan.actions, [
      { kind: "scaleReplicaSet", hash: "s1", replicas: 4, role: "stable" },
    ]);
    assert.equal(plan.status.phase, "Progressing");
    // Nothing to step through: `aviary list` shows the last step, as after a promotion.
    assert.equal(plan.status.currentStepIndex, rollout().spec.strategy.canary?.steps.length);
    const r = rollout();
    r.status = plan.status;
    const ready = decide(r, { ...empty, replicaSets: [rs("s1", 4)] }, T0 + 10_000);
    assert.deepEqual(ready.actions, [
      { kind: "setServiceSelector", service: "api-stable", role: "stable", hash: "s1" },
      { kind: "setServiceSelector", service: "api-canary", role: "canary", hash: "s1" },
    ]);
  });

  test("it is Healthy once every stable replica is available", () => {
    const r = rollout();
    r.status = { stableHash: "s1" };
    const plan = decide(
      r,
      {
        templateHash: "s1",
        replicaSets: [rs("s1", 4)],
        selectors: { stable: "s1", canary: "s1" },
        routes: { canaryWeight: 0, headerRoutes: [] },
      },
      T0,
    );
    assert.equal(plan.status.phase, "Healthy");
    assert.deepEqual(plan.actions, []);
    assert.equal(plan.status.observedGeneration, 2);
  });

  test("a weight edited by hand while Healthy is put back to 0 (drift)", () => {
    const r = rollout();
    r.status = { stableHash: "s1" };
    const plan = decide(
      r,
      {
        templateHash: "s1",
        replicaSets: [rs("s1", 4)],
        selectors: { stable: "s1", canary: "s1" },
        routes: { canaryWeight: 30, headerRoutes: [] },
      },
      T0,
    );
    assert.deepEqual(weights(plan.actions), [0]);
  });
});

describe("canary: a new template starts a release", () => {
  test("the canary ReplicaSet is created at the first step's share, and no weight moves yet", () => {
    const r = rollout();
    r.status = { stableHash: "s1", phase: "Healthy" };
    const plan = decide(
      r,
      observed({ replicaSets: [rs("s1", 4)], selectors: { stable: "s1", canary: "s1" } }),
      T0,
    );
    assert.equal(plan.status.canaryHash, "c2");
    assert.equal(plan.status.currentStepIndex, 0);
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 1),
    );
    assert.deepEqual(
      weights(plan.actions).filter((w) => w > 0),
      [],
    );
    assert.ok(plan.events.some((e) => e.reason === "ReleaseStarted"));
  });
});

describe("invariant 1: traffic never goes to pods that are not available", () => {
  const cases: {
    name: string;
    seen: Partial<Observed>;
    expectWeight: number[];
    expectSelector: boolean;
  }[] = [
    {
      name: "no canary pod available: no weight",
      seen: {
        replicaSets: [rs("s1", 4), rs("c2", 1, 0)],
        selectors: { stable: "s1", canary: "s1" },
      },
      expectWeight: [],
      expectSelector: false,
    },
    {
      name: "pod available but Service not on it yet: selector first, no weight",
      seen: { replicaSets: [rs("s1", 4), rs("c2", 1)], selectors: { stable: "s1", canary: "s1" } },
      expectWeight: [],
      expectSelector: true,
    },
    {
      name: "pod available and selected: weight 10",
      seen: {},
      expectWeight: [10],
      expectSelector: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const plan = decide(releasing(), observed(c.seen), T0);
      assert.deepEqual(weights(plan.actions), c.expectWeight);
      assert.equal(
        plan.actions.some(
          (a) => a.kind === "setServiceSelector" && a.role === "canary" && a.hash === "c2",
        ),
        c.expectSelector,
      );
    });
  }

  test("a step heading to 50% waits until the canary has the replicas for it", () => {
    const plan = decide(
      releasing({ currentStepIndex: 2 }),
      observed({
        replicaSets: [rs("s1", 4), rs("c2", 2, 1)],
        routes: { canaryWeight: 10, headerRoutes: [] },
      }),
      T0,
    );
    assert.deepEqual(weights(plan.actions), []);
    assert.match(plan.status.message ?? "", /1\/2 replicas available/);
  });
});

describe("canary: steps", () => {
  test("setWeight completes once the router reports the weight, and the timed pause starts", () => {
    const plan = decide(
      releasing(),
      observed({ routes: { canaryWeight: 10, headerRoutes: [] } }),
      T0,
    );
    assert.equal(plan.status.currentStepIndex, 1);
    assert.equal(plan.status.phase, "Paused");
    assert.equal(plan.requeueAfter, 60);
  });

  const pauseCases = [
    { after: 59, index: 1 },
    { after: 60, index: 2 },
  ];
  for (const { after, index } of pauseCases) {
    test(`a 1m pause, ${after}s in, is at step index ${index}`, () => {
      const plan = decide(
        releasing({ currentStepIndex: 1 }),
        observed({ routes: { canaryWeight: 10, headerRoutes: [] } }),
        T0 + after * 1000,
      );
      assert.equal(plan.status.currentStepIndex, index);
    });
  }

  test("an indefinite pause waits for promote and notifies once", () => {
    const r = releasing({ currentStepIndex: 3 });
    const seen = observed({
      replicaSets: [rs("s1", 4), rs("c2", 2)],
      routes: { canaryWeight: 50, headerRoutes: [] },
    });
    const first = decide(r, seen, T0 + 3_600_000);
    assert.equal(first.status.phase, "Paused");
    assert.match(first.status.message ?? "", /aviary promote/);
    assert.deepEqual(pendingKinds(first), ["paused"]);
    r.status = first.status;
    const again = decide(r, seen, T0 + 3_700_000);
    assert.equal(again.status.currentStepIndex, 3, "still waiting after an hour");
    assert.deepEqual(pendingKinds(again), ["paused"], "no second notification");
  });

  test("setHeaderRoute adds the route once a canary pod is selected, and completes when the router has it", () => {
    const r = headerRouteRollout();
    r.status = releasing().status;
    const adding = decide(r, observed(), T0);
    assert.deepEqual(
      adding.actions
        .filter((a) => a.kind === "setHeaderRoute")
        .map((a) => a.kind === "setHeaderRoute" && a.name),
      ["beta"],
    );
    assert.equal(adding.status.currentStepIndex, 0);
    const added = decide(r, observed({ routes: { canaryWeight: 0, headerRoutes: ["beta"] } }), T0);
    assert.equal(added.status.currentStepIndex, 1);
  });

  test("setCanaryScale sizes the canary independently of its weight", () => {
    const r = rollout({
      canary: {
        stableService: "a",
        canaryService: "b",
        trafficRouting: { istio: { virtualService: { name: "vs" } } },
        steps: [{ setCanaryScale: { replicas: 3 } }, { setWeight: 5 }, { pause: {} }],
      },
    });
    r.status = releasing().status;
    const plan = decide(r, observed(), T0);
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 3),
    );
  });
});

describe("canary: promotion at the end of the steps", () => {
  const atEnd = (): Rollout => releasing({ currentStepIndex: 4, headerRoutes: ["beta"] });

  test("the canary is scaled to full size before anything moves", () => {
    const plan = decide(
      atEnd(),
      observed({
        replicaSets: [rs("s1", 4), rs("c2", 2)],
        routes: { canaryWeight: 50, headerRoutes: [] },
      }),
      T0,
    );
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 4),
    );
    assert.deepEqual(weights(plan.actions), []);
  });

  test("then the stable Service moves to the new pods before the weight returns to the stable route", () => {
    const plan = decide(
      atEnd(),
      observed({
        replicaSets: [rs("s1", 4), rs("c2", 4)],
        routes: { canaryWeight: 50, headerRoutes: [] },
      }),
      T0,
    );
    assert.deepEqual(kinds(plan.actions), ["setServiceSelector"]);
    assert.equal(plan.status.stableHash, "s1");
  });

  test("with the stable Service moved, weights go to 0 and header routes are removed; then it is promoted", () => {
    const seen = observed({
      replicaSets: [rs("s1", 4), rs("c2", 4)],
      selectors: { stable: "c2", canary: "c2" },
      routes: { canaryWeight: 50, headerRoutes: ["beta"] },
    });
    const moving = decide(atEnd(), seen, T0);
    assert.deepEqual(weights(moving.actions), [0]);
    assert.ok(moving.actions.some((a) => a.kind === "removeHeaderRoute" && a.name === "beta"));
    assert.equal(moving.status.stableHash, "s1", "not promoted until the router confirms");

    const done = decide(atEnd(), { ...seen, routes: { canaryWeight: 0, headerRoutes: [] } }, T0);
    assert.equal(done.status.stableHash, "c2");
    assert.equal(done.status.canaryHash, undefined);
    assert.equal(done.status.phase, "Healthy");
    assert.ok(pendingKinds(done).includes("promoted"));
    assert.deepEqual(done.status.scaleDownAt, [
      { hash: "s1", at: new Date(T0 + 30_000).toISOString() },
    ]);
    assert.ok(
      !done.actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "s1" && a.replicas === 0,
      ),
      "old stable stays for scaleDownDelaySeconds",
    );
  });

  test("the old stable is scaled down after scaleDownDelaySeconds", () => {
    const r = rollout();
    r.status = {
      stableHash: "c2",
      scaleDownAt: [{ hash: "s1", at: new Date(T0 + 30_000).toISOString() }],
    };
    const seen: Observed = {
      templateHash: "c2",
      replicaSets: [rs("s1", 4), rs("c2", 4)],
      selectors: { stable: "c2", canary: "c2" },
      routes: { canaryWeight: 0, headerRoutes: [] },
    };
    assert.ok(
      !decide(r, seen, T0 + 29_000).actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "s1",
      ),
    );
    assert.ok(
      decide(r, seen, T0 + 30_000).actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "s1" && a.replicas === 0,
      ),
    );
  });
});

describe("canary without traffic routing", () => {
  test("the split follows replica counts: stable shrinks only as canary pods become available", () => {
    const r = rollout({
      canary: { stableService: "a", canaryService: "b", steps: [{ setWeight: 50 }, { pause: {} }] },
    });
    r.status = releasing().status;
    const plan = decide(
      r,
      observed({ routes: undefined, replicaSets: [rs("s1", 4), rs("c2", 2, 1)] }),
      T0,
    );
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "s1" && a.replicas === 3),
    );
  });
});

describe("events", () => {
  test("steps completed in one reconcile make one StepCompleted Event naming each", () => {
    // The pause is over, and the next step's weight is already in place (as after a
    // restart): both steps complete now, and the release waits at the manual pause.
    const plan = decide(
      releasing({ currentStepIndex: 1 }),
      observed({
        replicaSets: [rs("s1", 4), rs("c2", 2)],
        routes: { canaryWeight: 50, headerRoutes: [] },
      }),
      T0 + 61_000,
    );
    assert.equal(plan.status.currentStepIndex, 3);
    assert.deepEqual(
      plan.events.filter((e) => e.reason === "StepCompleted").map((e) => e.message),
      ["steps 2–3/4 completed (pause 1m; setWeight 50)"],
    );
  });

  test("one step completed is one Event", () => {
    const plan = decide(
      releasing({ currentStepIndex: 1 }),
      observed({ routes: { canaryWeight: 10, headerRoutes: [] } }),
      T0 + 61_000,
    );
    assert.deepEqual(
      plan.events.filter((e) => e.reason === "StepCompleted").map((e) => e.message),
      ["step 2/4 completed (pause 1m)"],
    );
  });
});
