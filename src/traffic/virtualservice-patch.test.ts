import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Json } from "./json-patch.ts";
import { RoutingProblem } from "./router.ts";
import { hostLevelTarget } from "./istio-virtualservice.ts";
import {
  addHeaderRoutePatch,
  hostNamesService,
  observeVirtualService,
  removeHeaderRoutePatch,
  virtualServiceWeightPatch,
} from "./virtualservice-patch.ts";

const services = {
  stable: "api-stable",
  canary: "api-canary",
  strategyField: "spec.strategy.canary",
  stableField: "stableService",
  canaryField: "canaryService",
};

function vs(http: Json[]): Json {
  return { metadata: { name: "api-vs" }, spec: { hosts: ["api"], http } };
}

const primary = {
  name: "primary",
  route: [
    { destination: { host: "api-stable", port: { number: 80 } }, weight: 100 },
    { destination: { host: "api-canary.shop.svc.cluster.local", port: { number: 80 } }, weight: 0 },
  ],
};

describe("Istio hosts", () => {
  test("short, namespaced and fully qualified hosts name the Service in its namespace only", () => {
    for (const host of ["api", "api.shop", "api.shop.svc", "api.shop.svc.cluster.local"])
      assert.equal(hostNamesService(host, "api", "shop"), true, host);
    for (const host of ["api.other", "api2", "api.other.svc.cluster.local", "api-canary"])
      assert.equal(hostNamesService(host, "api", "shop"), false, host);
  });
});

describe("VirtualService weights", () => {
  const target = hostLevelTarget({ name: "api-vs", routes: ["primary"] }, services, "shop");

  test("sets only the named route's weights, each guarded by a test of what it replaces", () => {
    const object = vs([
      { name: "other", route: [{ destination: { host: "api-stable" }, weight: 100 }] },
      primary,
    ]);
    assert.deepEqual(virtualServiceWeightPatch(object, target, 30), [
      { op: "test", path: "/spec/http/1/name", value: "primary" },
      { op: "test", path: "/spec/http/1/route/0", value: primary.route[0] },
      { op: "replace", path: "/spec/http/1/route/0/weight", value: 70 },
      { op: "test", path: "/spec/http/1/route/1", value: primary.route[1] },
      { op: "replace", path: "/spec/http/1/route/1/weight", value: 30 },
    ]);
  });

  test("writes nothing when the weights are already right", () => {
    assert.deepEqual(virtualServiceWeightPatch(vs([primary]), target, 0), []);
  });

  test("observes the canary weight and Aviary's header routes without the prefix", () => {
    const object = vs([
      { name: "aviary-beta", route: [{ destination: { host: "api-canary" } }] },
      primary,
    ]);
    assert.deepEqual(observeVirtualService(object, target), {
      canaryWeight: 0,
      headerRoutes: ["beta"],
    });
  });

  test("without named routes it uses the only route, ignoring Aviary's header routes", () => {
    const unnamed = hostLevelTarget({ name: "api-vs" }, services, "shop");
    const object = vs([
      { name: "aviary-beta", route: [{ destination: { host: "api-canary" } }] },
      primary,
    ]);
    assert.equal(virtualServiceWeightPatch(object, unnamed, 50).length, 5);
  });

  test("a missing route names the routes field and says what to do", () => {
    const missing = hostLevelTarget({ name: "api-vs", routes: ["main"] }, services, "shop");
    assert.throws(
      () => virtualServiceWeightPatch(vs([primary]), missing, 10),
      (error: unknown) =>
        error instanceof RoutingProblem &&
        error.problem.path === "spec.strategy.canary.trafficRouting.istio.virtualService.routes" &&
        error.problem.message.includes('no http route named "main"'),
    );
  });

  test("a route without the canary Service names the canaryService field", () => {
    const stableOnly = {
      name: "primary",
      route: [{ destination: { host: "api-stable" }, weight: 100 }],
    };
    assert.throws(
      () => virtualServiceWeightPatch(vs([stableOnly]), target, 10),
      (error: unknown) =>
        error instanceof RoutingProblem &&
        error.problem.path === "spec.strategy.canary.canaryService",
    );
  });
});

describe("VirtualService header routes", () => {
  const target = hostLevelTarget({ name: "api-vs", routes: ["primary"] }, services, "shop");
  const match = [{ header: "X-User-Group", exact: "beta-testers" }];

  test("adds a route at the top that sends matching requests to the canary destination", () => {
    const patch = addHeaderRoutePatch(vs([primary]), target, "beta", match);
    assert.deepEqual(patch.at(-1), {
      op: "add",
      path: "/spec/http/0",
      value: {
        name: "aviary-beta",
        match: [{ headers: { "x-user-group": { exact: "beta-testers" } } }],
        route: [{ destination: primary.route[1]?.destination }],
      },
    });
  });

  test("keeps the weighted route's match and policy: beta traffic has the same timeout, retries and rewrite", () => {
    const policy = {
      timeout: "5s",
      retries: { attempts: 2, perTryTimeout: "2s", retryOn: "connect-failure" },
      rewrite: { uri: "/v2" },
    };
    const guarded = { ...primary, match: [{ uri: { prefix: "/api" } }], ...policy };
    const added = addHeaderRoutePatch(vs([guarded]), target, "beta", match).at(-1) as {
      value: Json;
    };
    assert.deepEqual(added.value, {
      name: "aviary-beta",
      // Only the requests the weighted route would take: its own match, and the header.
      match: [{ uri: { prefix: "/api" }, headers: { "x-user-group": { exact: "beta-testers" } } }],
      route: [{ destination: primary.route[1]?.destination }],
      ...policy,
    });
  });

  test("is idempotent and removable by name", () => {
    const added = addHeaderRoutePatch(vs([primary]), target, "beta", match).at(-1) as {
      value: Json;
    };
    const withRoute = vs([added.value, primary]);
    assert.deepEqual(addHeaderRoutePatch(withRoute, target, "beta", match), []);
    assert.deepEqual(removeHeaderRoutePatch(withRoute, "beta"), [
      { op: "test", path: "/spec/http/0", value: added.value },
      { op: "remove", path: "/spec/http/0" },
    ]);
    assert.deepEqual(removeHeaderRoutePatch(vs([primary]), "beta"), []);
  });
});
