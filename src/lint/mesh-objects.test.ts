import { test } from "node:test";
import assert from "node:assert/strict";
import { meshDurationMs } from "./mesh-objects.ts";

test("mesh durations read as Istio and the Gateway API write them", () => {
  assert.equal(meshDurationMs("15s"), 15_000);
  assert.equal(meshDurationMs("1.5s"), 1500);
  assert.equal(meshDurationMs("1m30s"), 90_000);
  assert.equal(meshDurationMs("500ms"), 500);
  assert.equal(meshDurationMs("250us"), 0.25);
  // Go's time.ParseDuration, which Istio uses, also takes the micro sign.
  assert.equal(meshDurationMs("250µs"), 0.25);
  assert.equal(meshDurationMs("2h"), 7_200_000);
  assert.equal(meshDurationMs("15"), undefined);
  assert.equal(meshDurationMs("fast"), undefined);
  assert.equal(meshDurationMs(15), undefined);
});
