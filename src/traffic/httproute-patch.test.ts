import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  addHeaderRulePatch,
  escapeRegex,
  gatewayHeaderMatches,
  httpRouteWeightPatch,
  observeHttpRoute,
  parentsAcceptance,
} from "./httproute-patch.ts";
import type { Json } from "./json-patch.ts";
import { RoutingProblem } from "./router.ts";

const target = {
  stableService: "api-stable",
  canaryService: "api-canary",
  namespace: "shop",
  strategyField: "spec.strategy.canary",
};
const filters = [
  {
    type: "RequestHeaderModifier",
    requestHeaderModifier: { add: [{ name: "x-team", value: "a" }] },
  },
];
const weighted = {
  filters,
  backendRefs: [
    { group: "", kind: "Service", name: "api-stable", port: 80, weight: 100 },
    { group: "", kind: "Service", name: "api-canary", port: 80, weight: 0 },
  ],
};
const route = (rules: Json[], status?: Json): Json => ({
  metadata: { name: "api" },
  spec: { rules },
  ...(status ? { status } : {}),
});

describe("HTTPRoute weights", () => {
  test("sets the backendRef weights of the rule with both Services, guarded", () => {
    const other = { backendRefs: [{ name: "legacy", port: 80 }] };
    assert.deepEqual(httpRouteWeightPatch(route([other, weighted]), target, 25), [
      { op: "test", path: "/spec/rules/1/backendRefs/0", value: weighted.backendRefs[0] },
      { op: "replace", path: "/spec/rules/1/backendRefs/0/weight", value: 75 },
      { op: "test", path: "/spec/rules/1/backendRefs/1", value: weighted.backendRefs[1] },
      { op: "replace", path: "/spec/rules/1/backendRefs/1/weight", value: 25 },
    ]);
    assert.deepEqual(httpRouteWeightPatch(route([weighted]), target, 0), []);
  });

  test("observes weights as the canary's percentage", () => {
    const even = { backendRefs: [{ name: "api-stable" }, { name: "api-canary" }] };
    assert.deepEqual(observeHttpRoute(route([even]), target), {
      canaryWeight: 50,
      headerRoutes: [],
    });
  });

  test("a route without both Services names the httpRoute field", () => {
    assert.throws(
      () => httpRouteWeightPatch(route([{ backendRefs: [{ name: "api-stable" }] }]), target, 5),
      (error: unknown) =>
        error instanceof RoutingProblem &&
        error.problem.path === "spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute.name",
    );
  });
});

describe("HTTPRoute header rules", () => {
  test("exact stays exact; prefix becomes an anchored, escaped regular expression", () => {
    assert.deepEqual(
      gatewayHeaderMatches([
        { header: "x-user-group", exact: "beta" },
        { header: "x-version", prefix: "1.2+" },
      ]),
      [
        { type: "Exact", name: "x-user-group", value: "beta" },
        { type: "RegularExpression", name: "x-version", value: "^1\\.2\\+.*" },
      ],
    );
    assert.equal(escapeRegex("a.b*c"), "a\\.b\\*c");
  });

  test("adds a named rule at the top to the canary backend, keeping the person's filters; then is a no-op", () => {
    const patch = addHeaderRulePatch(route([weighted]), target, "beta", [
      { header: "x-user-group", exact: "beta" },
    ]);
    const added = patch.at(-1) as { op: string; path: string; value: Json };
    assert.equal(added.op, "add");
    assert.equal(added.path, "/spec/rules/0");
    assert.equal(added.value.name, "aviary-beta");
    assert.deepEqual(added.value.backendRefs, [
      { group: "", kind: "Service", name: "api-canary", port: 80, weight: 1 },
    ]);
    assert.deepEqual(added.value.filters, filters);
    const after = route([added.value, weighted]);
    assert.deepEqual(
      addHeaderRulePatch(after, target, "beta", [{ header: "x-user-group", exact: "beta" }]),
      [],
    );
    assert.deepEqual(observeHttpRoute(after, target).headerRoutes, ["beta"]);
  });
});

describe("HTTPRoute parents", () => {
  test("no reported parents counts as accepted; every reported parent must say Accepted=True", () => {
    assert.deepEqual(parentsAcceptance(route([weighted])), { accepted: true });
    const parent = (status: string) => ({
      parentRef: { kind: "Service", name: "api" },
      conditions: [{ type: "Accepted", status, reason: "NoMatchingParent", message: "no parent" }],
    });
    assert.deepEqual(parentsAcceptance(route([weighted], { parents: [parent("True")] })), {
      accepted: true,
    });
    const pending = parentsAcceptance(
      route([weighted], { parents: [parent("True"), parent("False")] }),
    );
    assert.equal(pending.accepted, false);
    assert.match(pending.message ?? "", /Service api: no parent/);
  });
});
