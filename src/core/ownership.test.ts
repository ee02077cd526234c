import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import { managedFromSpec } from "./managed.ts";
import type { Action, ObservedClaim } from "./plan.ts";
import { midRelease, observed, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

const kinds = (actions: readonly Action[]) => actions.map((a) => a.kind);

describe("one owner per route and Service", () => {
  const claim = (owner: string | undefined, ownerExists = true): ObservedClaim => ({
    what: 'route "primary" of VirtualService api-vs',
    field: "spec.strategy.canary.trafficRouting.istio.virtualService.routes",
    owner,
    ownerExists,
  });

  test("a part another Rollout manages is an InvalidSpec naming the owner, and nothing is touched", () => {
    const r = rollout();
    r.status = { stableHash: "s1" };
    const plan = decide(r, observed({ templateHash: "c2", claims: [claim("api-service")] }), T0);
    assert.deepEqual(kinds(plan.actions), []);
    assert.match(
      plan.status.conditions?.find((c) => c.type === "InvalidSpec")?.message ?? "",
      /route "primary" of VirtualService api-vs is managed by Rollout api-service/,
    );
    assert.equal(plan.status.phase, "Degraded");
  });

  test("unclaimed parts are claimed before anything else moves", () => {
    const r = rollout();
    const plan = decide(r, observed({ templateHash: "s1", claims: [claim(undefined)] }), T0);
    assert.equal(plan.actions[0]?.kind, "claim");
    assert.equal(plan.status.managed, undefined, "recorded once the claims are ours");
  });

  test("a claim whose Rollout is gone is taken over", () => {
    const plan = decide(
      rollout(),
      observed({ templateHash: "s1", claims: [claim("old", false)] }),
      T0,
    );
    assert.equal(plan.actions[0]?.kind, "claim");
    assert.equal(
      plan.status.conditions?.find((c) => c.type === "InvalidSpec"),
      undefined,
    );
  });

  test("once every claim is ours, status.managed records it; pointing elsewhere lets go of the old", () => {
    const r = rollout();
    const plan = decide(r, observed({ templateHash: "s1", claims: [claim("api")] }), T0);
    assert.deepEqual(plan.status.managed, managedFromSpec(r));
    r.status = { ...plan.status, managed: { ...managedFromSpec(r), canaryService: "old-canary" } };
    const moved = decide(r, observed({ templateHash: "s1", claims: [claim("api")] }), T0);
    // The Service only the old spec named selects by its own labels again.
    assert.deepEqual(kinds(moved.actions).slice(0, 3), ["restoreSelectors", "release", "claim"]);
    assert.deepEqual(moved.status.managed, managedFromSpec(r));
  });

  test("pointed at another VirtualService mid-release, the old one gives its traffic back and the old Services widen", () => {
    const r = midRelease({ headerRoutes: ["beta"] });
    const before = managedFromSpec(r);
    r.status = {
      ...r.status,
      managed: { ...before, virtualService: { name: "api-vs-old" }, canaryService: "old-canary" },
    };
    const moved = decide(
      r,
      observed({
        replicaSets: [rs("s1", 4), rs("c2", 2)],
        routes: { canaryWeight: 0, headerRoutes: [] },
        claims: [claim("api")],
      }),
      T0,
    );
    const letGo = moved.actions.slice(0, 4);
    assert.deepEqual(kinds(letGo), ["resetRouting", "restoreSelectors", "release", "claim"]);
    assert.deepEqual(letGo[0], {
      kind: "resetRouting",
      managed: r.status.managed,
      headerRoutes: ["beta"],
    });
    // Only the Service the new spec no longer names; the shared stable Service stays narrowed.
    assert.deepEqual(letGo[1], {
      kind: "restoreSelectors",
      managed: { strategy: "canary", canaryService: "old-canary" },
    });
    assert.deepEqual(moved.status.managed, managedFromSpec(r));
  });

  test("pointed at other Services behind the same VirtualService, the routing object is not reset", () => {
    const r = midRelease();
    const before = managedFromSpec(r);
    r.status = { ...r.status, managed: { ...before, canaryService: "old-canary" } };
    const moved = decide(r, observed({ templateHash: "s1", claims: [claim("api")] }), T0);
    assert.ok(!kinds(moved.actions).includes("resetRouting"), JSON.stringify(moved.actions));
  });

  test("on the same VirtualService, only a route the new spec drops is put back, and header routes stay", () => {
    const r = midRelease({ headerRoutes: ["beta"] });
    const spec = r.spec.strategy.canary;
    assert.ok(spec?.trafficRouting?.istio?.virtualService);
    spec.trafficRouting.istio.virtualService.routes = ["primary"];
    r.status = {
      ...r.status,
      managed: {
        ...managedFromSpec(r),
        virtualService: { name: "api-vs", routes: ["primary", "secondary"] },
      },
    };
    const moved = decide(r, observed({ templateHash: "s1", claims: [claim("api")] }), T0);
    assert.deepEqual(moved.actions[0], {
      kind: "resetRouting",
      managed: { ...r.status.managed, virtualService: { name: "api-vs", routes: ["secondary"] } },
      headerRoutes: [],
    });
  });

  test("moved from host-level to subset-level routing, the Services Aviary narrowed select by their own labels again", () => {
    const r = midRelease();
    const before = managedFromSpec(r);
    const spec = r.spec.strategy.canary;
    assert.ok(spec?.trafficRouting?.istio);
    spec.trafficRouting.istio.destinationRule = {
      name: "api-dr",
      stableSubset: "stable",
      canarySubset: "canary",
    };
    r.status = { ...r.status, managed: before };
    const moved = decide(r, observed({ templateHash: "s1", claims: [claim("api")] }), T0);
    const restore = moved.actions.find((a) => a.kind === "restoreSelectors");
    assert.deepEqual(restore, {
      kind: "restoreSelectors",
      managed: { strategy: "canary", stableService: "api-stable", canaryService: "api-canary" },
    });
    assert.ok(!kinds(moved.actions).includes("resetRouting"), "the same VirtualService route");
  });

  test("a Rollout without Aviary's finalizer gets it", () => {
    const r = rollout();
    r.metadata.finalizers = [];
    assert.deepEqual(decide(r, observed({ templateHash: "s1" }), T0).actions[0], {
      kind: "setFinalizer",
      present: true,
    });
  });
});
