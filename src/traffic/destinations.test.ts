import { describe, test } from "node:test";
import assert from "node:assert/strict";
import jsonPatch from "fast-json-patch";
import type { Json, JsonPatchOp } from "./json-patch.ts";
import { RoutingProblem } from "./router.ts";
import { hostLevelTarget } from "./istio-virtualservice.ts";
import { observeVirtualService, virtualServiceWeightPatch } from "./virtualservice-patch.ts";
import { httpRouteWeightPatch, observeHttpRoute } from "./httproute-patch.ts";

/** Routes with more destinations than stable and canary: the weights must still add up. */

/** Applies a patch as the API server would: every `test` must hold. */
function applyPatch(object: Json, ops: JsonPatchOp[]): Json {
  return jsonPatch.applyPatch(structuredClone(object), ops as jsonPatch.Operation[], true, false)
    .newDocument;
}

const services = {
  stable: "api-stable",
  canary: "api-canary",
  strategyField: "spec.strategy.canary",
  stableField: "stableService",
  canaryField: "canaryService",
};
const target = hostLevelTarget({ name: "api-vs", routes: ["primary"] }, services, "shop");

function vs(route: Json[]): Json {
  return { metadata: { name: "api-vs" }, spec: { http: [{ name: "primary", route }] } };
}
const dest = (host: string, weight: number) => ({ destination: { host }, weight });
const weights = (object: Json) =>
  ((object.spec as { http: { route: { weight: number }[] }[] }).http[0]?.route ?? []).map(
    (r) => r.weight,
  );

describe("VirtualService routes with a third destination", () => {
  const third = vs([dest("api-stable", 90), dest("api-canary", 0), dest("legacy", 10)]);

  test("the third destination keeps its weight; stable and canary share the rest (sums stay 100)", () => {
    for (const canary of [0, 20, 50, 90]) {
      const after = applyPatch(third, virtualServiceWeightPatch(third, target, canary));
      assert.deepEqual(weights(after), [90 - canary, canary, 10]);
      assert.equal(observeVirtualService(after, target).canaryWeight, canary);
    }
  });

  test("observation reports the weight Aviary must leave alone, and where it goes", () => {
    const observed = observeVirtualService(third, target);
    assert.equal(observed.fixedWeight, 10);
    assert.equal(observed.fixedWeightTo, "legacy");
  });

  test("a canary weight that cannot fit is refused, naming the field", () => {
    assert.throws(
      () => virtualServiceWeightPatch(third, target, 95),
      (e: unknown) => e instanceof RoutingProblem && /does not fit beside the 10%/.test(e.message),
    );
  });

  test("the canary Service listed twice is a problem, not 40% of real canary traffic", () => {
    const twice = vs([dest("api-stable", 100), dest("api-canary", 0), dest("api-canary", 0)]);
    assert.throws(
      () => virtualServiceWeightPatch(twice, target, 20),
      (e: unknown) =>
        e instanceof RoutingProblem &&
        e.problem.path === "spec.strategy.canary.canaryService" &&
        /lists Service api-canary 2 times; list it once/.test(e.problem.message),
    );
  });
});

describe("HTTPRoute rules with another backend", () => {
  const routeTarget = {
    stableService: "api-stable",
    canaryService: "api-canary",
    namespace: "shop",
    strategyField: "spec.strategy.canary",
  };
  const route = (backendRefs: Json[]): Json => ({
    metadata: { name: "api" },
    spec: { rules: [{ backendRefs }] },
  });
  const backendWeights = (object: Json) =>
    (
      (object.spec as { rules: { backendRefs: { weight: number }[] }[] }).rules[0]?.backendRefs ??
      []
    ).map((r) => r.weight);

  test("percent weights: the other backend keeps its share", () => {
    const object = route([
      { name: "api-stable", port: 80, weight: 80 },
      { name: "api-canary", port: 80, weight: 0 },
      { name: "legacy", port: 80, weight: 20 },
    ]);
    const after = applyPatch(object, httpRouteWeightPatch(object, routeTarget, 30));
    assert.deepEqual(backendWeights(after), [50, 30, 20]);
    assert.equal(observeHttpRoute(after, routeTarget).canaryWeight, 30);
    assert.equal(observeHttpRoute(after, routeTarget).fixedWeight, 20);
  });

  test("proportional weights beside another backend cannot keep its share: a problem, with the fix", () => {
    const object = route([
      { name: "api-stable", port: 80, weight: 1 },
      { name: "api-canary", port: 80, weight: 0 },
      { name: "legacy", port: 80, weight: 1 },
    ]);
    assert.throws(
      () => observeHttpRoute(object, routeTarget),
      (e: unknown) =>
        e instanceof RoutingProblem && /weights add up to 2, not 100/.test(e.problem.message),
    );
  });

  test("a Service listed twice in a rule is a problem", () => {
    const object = route([
      { name: "api-stable", port: 80, weight: 100 },
      { name: "api-canary", port: 80, weight: 0 },
      { name: "api-canary", port: 8080, weight: 0 },
    ]);
    assert.throws(
      () => httpRouteWeightPatch(object, routeTarget, 10),
      (e: unknown) =>
        e instanceof RoutingProblem && /lists Service api-canary 2 times/.test(e.message),
    );
  });
});
