import { test } from "node:test";
import assert from "node:assert/strict";
import { steeringRefusal } from "./steer-check.ts";

const healthy = { phase: "Healthy" as const, stableHash: "a", canaryHash: "a" };
const paused = { phase: "Paused" as const, stableHash: "a", canaryHash: "b", currentStepIndex: 1 };
const aborted = { phase: "Aborted" as const, stableHash: "a", canaryHash: "b", abortedAt: "t" };

test("promote and abort on a Healthy Rollout say there is nothing to do", () => {
  assert.equal(
    steeringRefusal("promote", "api", healthy),
    "nothing to promote: rollout api is Healthy with no release in progress",
  );
  assert.match(steeringRefusal("promoteFull", "api", healthy) ?? "", /nothing to promote/);
  assert.match(steeringRefusal("abort", "api", healthy) ?? "", /nothing to abort/);
});

test("a release in progress can be promoted, aborted and paused", () => {
  for (const command of ["promote", "promoteFull", "abort", "pause"] as const)
    assert.equal(steeringRefusal(command, "api", paused), undefined, command);
});

test("retry only after an abort; promote after an abort points to retry", () => {
  assert.match(steeringRefusal("retry", "api", paused) ?? "", /only an aborted release/);
  assert.equal(steeringRefusal("retry", "api", aborted), undefined);
  assert.match(steeringRefusal("promote", "api", aborted) ?? "", /aviary retry api/);
  assert.match(steeringRefusal("abort", "api", aborted) ?? "", /already aborted/);
});

test("pause and resume refuse what is already so", () => {
  assert.match(
    steeringRefusal("pause", "api", { ...paused, manualPause: true }) ?? "",
    /already paused/,
  );
  assert.match(steeringRefusal("resume", "api", paused) ?? "", /nothing to resume/);
  assert.equal(steeringRefusal("resume", "api", { ...paused, manualPause: true }), undefined);
});

test("a Rollout the controller has not reconciled is left to the controller", () => {
  assert.equal(steeringRefusal("promote", "api", {}), undefined);
});
