import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { applyMergePatch } from "./merge-patch.ts";
import { statusMergePatch } from "../kube/status-patch.ts";
import type { RolloutStatus } from "../api/rollout.ts";

describe("JSON merge patch (RFC 7386)", () => {
  const cases = [
    { target: { a: "b" }, patch: { a: "c" }, result: { a: "c" } },
    { target: { a: "b" }, patch: { b: "c" }, result: { a: "b", b: "c" } },
    { target: { a: "b" }, patch: { a: null }, result: {} },
    { target: { a: { b: "c" } }, patch: { a: { b: "d", c: null } }, result: { a: { b: "d" } } },
    { target: { a: [{ b: "c" }] }, patch: { a: [1] }, result: { a: [1] } },
    { target: { a: "b" }, patch: ["c"], result: ["c"] },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.target)} + ${JSON.stringify(c.patch)}`, () =>
      assert.deepEqual(applyMergePatch(c.target, c.patch), c.result));
  }

  test("the controller's status patch reproduces the new status exactly and keeps a pending command", () => {
    const stored: RolloutStatus = {
      phase: "Progressing",
      abortedAt: "2026-01-01T00:00:00Z",
      analysis: {
        verdict: "Running",
        startedAt: "t0",
        conclusiveSeconds: 0,
        samples: 1,
        metrics: [],
        judge: { judge: "sequential", errors: { worse: [0, 1] }, old: 3 },
      },
      command: { name: "promote", id: "pending" },
    };
    const next: RolloutStatus = {
      phase: "Paused",
      analysis: {
        verdict: "Inconclusive",
        startedAt: "t0",
        conclusiveSeconds: 15,
        samples: 2,
        metrics: [],
        judge: { judge: "sequential", errors: { worse: [0.5, 2] } },
      },
    };
    const written = applyMergePatch(stored, statusMergePatch(stored, next)) as RolloutStatus;
    assert.deepEqual(written, { ...next, command: stored.command });
  });
});
