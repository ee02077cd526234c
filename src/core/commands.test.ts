import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import type { Action } from "./plan.ts";
import type { CommandName, Rollout, RolloutStatus } from "../api/rollout.ts";
import { observed, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

const at = (offsetSeconds: number) => new Date(T0 + offsetSeconds * 1000).toISOString();

function withCommand(
  name: CommandName,
  status: Partial<RolloutStatus> = {},
  id = "cmd-1",
): Rollout {
  const r = rollout();
  r.status = {
    stableHash: "s1",
    canaryHash: "c2",
    currentStepIndex: 3,
    stepStartedAt: at(0),
    lastProgressAt: at(0),
    ...status,
    command: { name, id, requestedBy: "alice" },
  };
  return r;
}

const atPause = observed({
  replicaSets: [rs("s1", 4), rs("c2", 2)],
  routes: { canaryWeight: 50, headerRoutes: [] },
});
const weights = (actions: readonly Action[]) =>
  actions.flatMap((a) => (a.kind === "setWeight" ? [a.canaryWeight] : []));

describe("user commands (status.command, executed once per id)", () => {
  test("promote skips the indefinite pause and records the command id", () => {
    const plan = decide(withCommand("promote"), atPause, T0);
    assert.equal(plan.status.lastCommandId, "cmd-1");
    assert.notEqual(plan.status.phase, "Paused");
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 4),
      "promotion scales the canary up",
    );
  });

  test("the same command id is not executed twice (e.g. after a restart)", () => {
    const plan = decide(
      withCommand("promote", { currentStepIndex: 1, lastCommandId: "cmd-1" }),
      observed({ routes: { canaryWeight: 10, headerRoutes: [] } }),
      T0 + 1000,
    );
    assert.equal(plan.status.currentStepIndex, 1);
  });

  test("promoteFull goes straight to promotion, skipping the remaining steps", () => {
    const plan = decide(
      withCommand("promoteFull", { currentStepIndex: 0 }),
      observed({ routes: { canaryWeight: 0, headerRoutes: [] } }),
      T0,
    );
    assert.equal(plan.status.promoteFull, true);
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 4),
    );
  });

  test("abort returns traffic to stable; the canary keeps its pods until the router reports 0%", () => {
    const plan = decide(withCommand("abort"), atPause, T0);
    assert.equal(plan.status.phase, "Aborted");
    assert.match(plan.status.abortReason ?? "", /alice/);
    assert.deepEqual(weights(plan.actions), [0]);
    assert.ok(
      !plan.actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 0,
      ),
    );
  });

  test("invariant 2: after an abort, the canary is scaled down only once traffic is back and the delay passed", () => {
    const r = withCommand("abort", {
      abortedAt: at(0),
      abortReason: "aborted by alice",
      lastCommandId: "cmd-1",
    });
    const back = observed({
      replicaSets: [rs("s1", 4), rs("c2", 2)],
      routes: { canaryWeight: 0, headerRoutes: [] },
    });
    const cases = [
      { seen: atPause, t: 60, scaled: false, why: "router still sends 50% to the canary" },
      { seen: back, t: 10, scaled: false, why: "abortScaleDownDelaySeconds (30) not passed" },
      { seen: back, t: 30, scaled: true, why: "traffic back and delay passed" },
    ];
    for (const c of cases) {
      const plan = decide(r, c.seen, T0 + c.t * 1000);
      const scaled = plan.actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 0,
      );
      assert.equal(scaled, c.scaled, c.why);
      assert.equal(plan.status.phase, "Aborted");
    }
  });

  test("retry restarts an aborted release from the first step", () => {
    const plan = decide(
      withCommand("retry", {
        abortedAt: at(0),
        abortReason: "aborted by alice",
        currentStepIndex: 2,
      }),
      observed(),
      T0 + 5000,
    );
    assert.equal(plan.status.abortedAt, undefined);
    assert.equal(plan.status.currentStepIndex, 0);
    assert.deepEqual(weights(plan.actions), [10]);
  });

  test("pause holds a timed pause past its end; resume lets it advance", () => {
    const seen = observed({ routes: { canaryWeight: 10, headerRoutes: [] } });
    const paused = decide(withCommand("pause", { currentStepIndex: 1 }), seen, T0 + 120_000);
    assert.equal(paused.status.currentStepIndex, 1);
    assert.equal(paused.status.phase, "Paused");
    assert.match(paused.status.message ?? "", /aviary resume/);
    const r = withCommand("resume", { ...paused.status }, "cmd-2");
    const resumed = decide(r, seen, T0 + 121_000);
    assert.equal(resumed.status.currentStepIndex, 2);
  });

  test("a command that does not apply is recorded and explained, not executed", () => {
    const r = rollout();
    r.status = { stableHash: "s1", command: { name: "promote", id: "x" } };
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
    assert.equal(plan.status.lastCommandId, "x");
    assert.ok(
      plan.events.some(
        (e) => e.reason === "CommandIgnored" && /no release is in progress/.test(e.message),
      ),
    );
  });
});
