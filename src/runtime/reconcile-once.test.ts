import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { reconcileOnce, type ReconcilePorts } from "./reconcile-once.ts";
import type { Rollout } from "../api/rollout.ts";
import { rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

/** In-memory ports that record what a reconcile did, in order. */
function ports(overrides: Partial<ReconcilePorts> = {}) {
  const log: string[] = [];
  const base: ReconcilePorts = {
    observe: () =>
      Promise.resolve({
        templateHash: "c2",
        replicaSets: [rs("s1", 4), rs("c2", 1)],
        selectors: { stable: "s1", canary: "c2" },
        routes: { canaryWeight: 0, headerRoutes: [] },
      }),
    sampleMetrics: () => Promise.resolve({ at: new Date(T0).toISOString() }),
    execute: (_r, a) => Promise.resolve(void log.push(`execute ${a.kind}`)),
    writeStatus: (r, s) =>
      Promise.resolve(void log.push("writeStatus", (r.status = s).phase ?? "")),
    notify: (_r, n) => Promise.resolve(void log.push(`notify ${n.kind}`)),
    emit: (_r, e) => Promise.resolve(void log.push(`emit ${e.reason}`)),
    describeFailure: (error) => (error instanceof Error ? error.message : String(error)),
  };
  return { log, ports: { ...base, ...overrides } };
}

function analysedRelease(): Rollout {
  const r = rollout({
    canary: {
      stableService: "api-stable",
      canaryService: "api-canary",
      trafficRouting: { istio: { virtualService: { name: "vs" } } },
      analysis: { interval: "30s" },
      steps: [{ setWeight: 10 }, { pause: {} }],
    },
  });
  r.status = { stableHash: "s1", canaryHash: "c2", currentStepIndex: 0, phase: "Progressing" };
  return r;
}

describe("reconcileOnce", () => {
  test("a metrics reader that throws is missing data: the reconcile completes and analysis says why", async () => {
    const { ports: p } = ports({
      sampleMetrics: () => Promise.reject(new Error('403 forbidden: secrets "prom"')),
    });
    const plan = await reconcileOnce(p, analysedRelease(), T0, []);
    assert.equal(plan.status.analysis?.verdict, "Inconclusive");
    assert.match(plan.status.analysis?.message ?? "", /could not read metrics: 403 forbidden/);
  });

  test("status is written before notifications, and an Event that cannot be written loses no notification", async () => {
    const { ports: p, log } = ports({
      emit: () => Promise.reject(new Error("namespace terminating")),
    });
    const r = analysedRelease();
    r.status = { stableHash: "s1", phase: "Healthy" };
    await reconcileOnce(p, r, T0, []);
    const written = log.indexOf("writeStatus");
    const notified = log.indexOf("notify started");
    assert.ok(written >= 0 && notified > written, log.join(", "));
  });
});
