import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import type { Observed } from "./plan.ts";
import type { Rollout } from "../api/rollout.ts";
import { rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

const blueGreen = (extra: Record<string, unknown> = {}): Rollout => {
  const r = rollout({
    blueGreen: {
      activeService: "web-active",
      previewService: "web-preview",
      autoPromotionSeconds: 60,
      ...extra,
    },
  });
  r.status = { stableHash: "s1", canaryHash: "c2", lastProgressAt: new Date(T0).toISOString() };
  return r;
};

const seen = (over: Partial<Observed> = {}): Observed => ({
  templateHash: "c2",
  replicaSets: [rs("s1", 4), rs("c2", 4)],
  selectors: { stable: "s1", canary: "c2" },
  ...over,
});

describe("blue/green", () => {
  test("the preview runs at full size and the preview Service moves to it when available", () => {
    const plan = decide(
      blueGreen(),
      seen({ replicaSets: [rs("s1", 4)], selectors: { stable: "s1", canary: "s1" } }),
      T0,
    );
    assert.ok(
      plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 4),
    );
    assert.ok(
      !plan.actions.some((a) => a.kind === "setServiceSelector"),
      "no selector before pods are available",
    );
    const ready = decide(blueGreen(), seen({ selectors: { stable: "s1", canary: "s1" } }), T0);
    assert.ok(
      ready.actions.some(
        (a) => a.kind === "setServiceSelector" && a.service === "web-preview" && a.hash === "c2",
      ),
    );
  });

  test("autoPromotionSeconds: promoted 60 s after the preview is ready, then the old version leaves after the delay", () => {
    const r = blueGreen();
    const waiting = decide(r, seen(), T0);
    assert.equal(waiting.status.phase, "Paused");
    assert.equal(waiting.requeueAfter, 60);
    r.status = waiting.status;
    const switching = decide(r, seen(), T0 + 60_000);
    assert.deepEqual(
      switching.actions.filter((a) => a.kind === "setServiceSelector"),
      [{ kind: "setServiceSelector", service: "web-active", role: "stable", hash: "c2" }],
    );
    r.status = switching.status;
    const done = decide(r, seen({ selectors: { stable: "c2", canary: "c2" } }), T0 + 61_000);
    assert.equal(done.status.stableHash, "c2");
    assert.equal(done.status.phase, "Healthy");
    r.status = done.status;
    const later = seen({ templateHash: "c2", selectors: { stable: "c2", canary: "c2" } });
    assert.ok(
      !decide(r, later, T0 + 80_000).actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "s1",
      ),
    );
    assert.ok(
      decide(r, later, T0 + 91_000).actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "s1" && a.replicas === 0,
      ),
    );
  });

  test("with autoPromotionEnabled false it waits for promote", () => {
    const r = blueGreen({ autoPromotionEnabled: false, autoPromotionSeconds: undefined });
    const waiting = decide(r, seen(), T0 + 3_600_000);
    assert.match(waiting.status.message ?? "", /aviary promote/);
    r.status = { ...waiting.status, command: { name: "promote", id: "p1" } };
    const promoted = decide(r, seen(), T0 + 3_601_000);
    assert.ok(
      promoted.actions.some(
        (a) => a.kind === "setServiceSelector" && a.service === "web-active" && a.hash === "c2",
      ),
    );
  });

  test("with traffic routing the weight switches 0 → 100 at promotion", () => {
    const r = rollout({
      blueGreen: {
        activeService: "a",
        previewService: "p",
        trafficRouting: { istio: { virtualService: { name: "vs" } } },
      },
    });
    r.status = { stableHash: "s1", canaryHash: "c2" };
    const plan = decide(r, seen({ routes: { canaryWeight: 0, headerRoutes: [] } }), T0);
    assert.deepEqual(
      plan.actions.filter((a) => a.kind === "setWeight"),
      [{ kind: "setWeight", canaryWeight: 100 }],
    );
  });

  test("abort puts the active Service back on the old version before the preview is scaled down", () => {
    const r = blueGreen();
    r.status = {
      ...r.status,
      promotedAt: new Date(T0).toISOString(),
      command: { name: "abort", id: "a1" },
    };
    const plan = decide(r, seen({ selectors: { stable: "c2", canary: "c2" } }), T0);
    assert.equal(plan.status.phase, "Aborted");
    assert.ok(
      plan.actions.some(
        (a) => a.kind === "setServiceSelector" && a.service === "web-active" && a.hash === "s1",
      ),
    );
    assert.ok(
      !plan.actions.some(
        (a) => a.kind === "scaleReplicaSet" && a.hash === "c2" && a.replicas === 0,
      ),
    );
  });
});
