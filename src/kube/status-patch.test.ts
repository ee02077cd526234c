import { test } from "node:test";
import assert from "node:assert/strict";
import { statusMergePatch } from "./status-patch.ts";

test("dropped fields become null, nested ones too, and the pending command is left alone", () => {
  const patch = statusMergePatch(
    {
      phase: "Paused",
      manualPause: true,
      command: { name: "resume", id: "c2" },
      canaryScale: { replicas: 2, weight: 10 },
    },
    { phase: "Progressing", canaryScale: { replicas: 2 }, lastCommandId: "c1" },
  );
  assert.deepEqual(patch, {
    phase: "Progressing",
    canaryScale: { replicas: 2, weight: null },
    lastCommandId: "c1",
    manualPause: null,
  });
});

test("a command in the new status is not written back", () => {
  const patch = statusMergePatch(undefined, {
    phase: "Healthy",
    command: { name: "abort", id: "x" },
  });
  assert.deepEqual(patch, { phase: "Healthy" });
});
