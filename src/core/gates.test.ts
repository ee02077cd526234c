import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import { checkPromotionWindows } from "./windows.ts";
import type { Rollout } from "../api/rollout.ts";
import { observed, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

describe("promotion windows (cron, in the window's timezone)", () => {
  const weekdaysRome = [{ schedule: "* 9-17 * * 1-5", timezone: "Europe/Rome" }];
  const cases = [
    { at: "2026-11-24T08:30:00Z", open: true, why: "Tuesday 09:30 in Rome" },
    {
      at: "2026-11-24T07:59:30Z",
      open: false,
      why: "Tuesday 08:59 in Rome",
      opensAt: "2026-11-24T08:00:00.000Z",
    },
    {
      at: "2026-11-24T17:00:00Z",
      open: false,
      why: "Tuesday 18:00 in Rome",
      opensAt: "2026-11-25T08:00:00.000Z",
    },
    {
      at: "2026-11-28T10:00:00Z",
      open: false,
      why: "Saturday",
      opensAt: "2026-11-30T08:00:00.000Z",
    },
    { at: "2026-07-01T07:30:00Z", open: true, why: "09:30 in Rome in summer time (UTC+2)" },
  ];
  for (const c of cases) {
    test(`${c.why}: ${c.open ? "open" : "closed"}`, () => {
      const check = checkPromotionWindows(weekdaysRome, Date.parse(c.at));
      assert.equal(check.open, c.open);
      if (c.opensAt !== undefined)
        assert.equal(new Date(check.opensAt ?? 0).toISOString(), c.opensAt);
    });
  }

  test("outside a window a finished step does not advance, and the controller wakes when it opens", () => {
    const r = rollout({
      canary: {
        stableService: "a",
        canaryService: "b",
        trafficRouting: { istio: { virtualService: { name: "vs" } } },
        steps: [{ setWeight: 10 }, { setWeight: 20 }],
        promotionWindows: weekdaysRome,
      },
    });
    const now = Date.parse("2026-11-28T10:00:00Z");
    r.status = {
      stableHash: "s1",
      canaryHash: "c2",
      currentStepIndex: 0,
      stepStartedAt: new Date(now).toISOString(),
    };
    const plan = decide(r, observed({ routes: { canaryWeight: 10, headerRoutes: [] } }), now);
    assert.equal(plan.status.currentStepIndex, 0);
    assert.equal(plan.status.phase, "Paused");
    assert.match(plan.status.message ?? "", /outside the promotion windows/);
    assert.equal(plan.requeueAfter, (Date.parse("2026-11-30T08:00:00Z") - now) / 1000);
    const monday = Date.parse("2026-11-30T08:00:10Z");
    assert.equal(
      decide(r, observed({ routes: { canaryWeight: 10, headerRoutes: [] } }), monday).status
        .currentStepIndex,
      1,
    );
  });
});

describe("progress deadline", () => {
  const stuck = (abort: boolean): Rollout => {
    const r = rollout(undefined, { progressDeadlineSeconds: 600, progressDeadlineAbort: abort });
    r.status = {
      stableHash: "s1",
      canaryHash: "c2",
      currentStepIndex: 0,
      stepStartedAt: new Date(T0).toISOString(),
      lastProgressAt: new Date(T0).toISOString(),
    };
    return r;
  };
  const noPods = observed({
    replicaSets: [rs("s1", 4), rs("c2", 1, 0)],
    selectors: { stable: "s1", canary: "s1" },
  });

  test("a canary that never becomes available is rolled back after progressDeadlineSeconds", () => {
    assert.equal(decide(stuck(true), noPods, T0 + 600_000).status.abortedAt, undefined);
    const plan = decide(stuck(true), noPods, T0 + 601_000);
    assert.equal(plan.status.phase, "Degraded");
    assert.match(plan.status.abortReason ?? "", /progress deadline exceeded/);
    assert.match(plan.status.abortReason ?? "", /0\/1 replicas available/);
  });

  test("with progressDeadlineAbort false it reports Degraded and keeps waiting", () => {
    const plan = decide(stuck(false), noPods, T0 + 601_000);
    assert.equal(plan.status.phase, "Degraded");
    assert.equal(plan.status.abortedAt, undefined);
  });

  test("time spent in a pause does not count toward the deadline", () => {
    const r = stuck(true);
    r.status = { ...r.status, currentStepIndex: 3 };
    const plan = decide(
      r,
      observed({
        replicaSets: [rs("s1", 4), rs("c2", 2)],
        routes: { canaryWeight: 50, headerRoutes: [] },
      }),
      T0 + 7_200_000,
    );
    assert.equal(plan.status.phase, "Paused");
    assert.equal(plan.status.abortedAt, undefined);
  });
});

describe("invalid spec and reverted templates", () => {
  test("problems found by validation stop all actions and name the field", () => {
    const r = rollout();
    r.status = { stableHash: "s1", canaryHash: "c2", currentStepIndex: 1 };
    const plan = decide(
      r,
      observed({
        problems: [
          {
            path: "spec.strategy.canary.trafficRouting.istio.virtualService.name",
            message:
              'VirtualService "api-vs" not found in namespace prod; create it or fix the name',
          },
        ],
      }),
      T0,
    );
    assert.deepEqual(plan.actions, []);
    assert.equal(plan.status.phase, "Degraded");
    assert.equal(plan.status.currentStepIndex, 1, "the release keeps its place");
    const condition = plan.status.conditions?.find((c) => c.type === "InvalidSpec");
    assert.equal(condition?.status, "True");
    assert.match(condition?.message ?? "", /virtualService\.name/);
  });

  test("a template reverted to stable mid-release withdraws the canary without a rollback verdict", () => {
    const r = rollout();
    r.status = { stableHash: "s1", canaryHash: "c2", currentStepIndex: 2 };
    const seen = observed({ templateHash: "s1", routes: { canaryWeight: 10, headerRoutes: [] } });
    const first = decide(r, seen, T0);
    assert.deepEqual(
      first.actions.filter((a) => a.kind === "setWeight"),
      [{ kind: "setWeight", canaryWeight: 0 }],
    );
    assert.equal(first.status.canaryHash, "c2");
    const done = decide(r, { ...seen, routes: { canaryWeight: 0, headerRoutes: [] } }, T0 + 1000);
    assert.equal(done.status.canaryHash, undefined);
    assert.ok(
      done.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 0),
    );
  });
});
