import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { POD_TEMPLATE_HASH_LABEL } from "../api/labels.ts";
import { observeSubsets, selectSubsetPatch } from "./destinationrule-patch.ts";
import { RoutingProblem } from "./router.ts";

const dr = {
  metadata: { name: "api-dr" },
  spec: {
    host: "api",
    subsets: [
      { name: "v1", labels: { app: "api", [POD_TEMPLATE_HASH_LABEL]: "aaa" } },
      { name: "v2", trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } },
    ],
  },
};
const names = {
  stable: "v1",
  canary: "v2",
  field: "spec.strategy.canary.trafficRouting.istio.destinationRule",
};

describe("DestinationRule subsets", () => {
  test("observes the hash each subset selects", () => {
    assert.deepEqual(observeSubsets(dr, names), { stable: "aaa", canary: undefined });
  });

  test("changes only the hash label, guarded by its old value", () => {
    assert.deepEqual(selectSubsetPatch(dr, "v1", "f", "bbb"), [
      { op: "test", path: "/spec/subsets/0/name", value: "v1" },
      { op: "test", path: "/spec/subsets/0/labels/aviary.dev~1pod-template-hash", value: "aaa" },
      { op: "replace", path: "/spec/subsets/0/labels/aviary.dev~1pod-template-hash", value: "bbb" },
    ]);
    assert.deepEqual(selectSubsetPatch(dr, "v1", "f", "aaa"), []);
  });

  test("adds labels to a subset that has none", () => {
    assert.deepEqual(selectSubsetPatch(dr, "v2", "f", "ccc"), [
      { op: "test", path: "/spec/subsets/1/name", value: "v2" },
      { op: "add", path: "/spec/subsets/1/labels", value: { [POD_TEMPLATE_HASH_LABEL]: "ccc" } },
    ]);
  });

  test("a missing subset names the field", () => {
    assert.throws(
      () => selectSubsetPatch(dr, "v3", `${names.field}.canarySubset`, "x"),
      (error: unknown) =>
        error instanceof RoutingProblem && error.problem.path === `${names.field}.canarySubset`,
    );
  });
});
