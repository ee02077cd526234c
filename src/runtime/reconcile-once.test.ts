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
        notifyDefaults: { slack: true },
      }),
    sampleMetrics: () => Promise.resolve({ at: new Date(T0).toISOString() }),
    execute: (_r, a) => Promise.resolve(void log.push(`execute ${a.kind}`)),
    writeStatus: (r, s) =>
      Promise.resolve(void log.push("writeStatus", (r.status = s).phase ?? "")),
    deliver: (_r, s) =>
      void log.push(`deliver ${(s.notifications?.pending ?? []).map((p) => p.kind).join(",")}`),
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

  test("a transition's notification is pending in the status it writes, and delivery starts after that write", async () => {
    const { ports: p, log } = ports({
      emit: () => Promise.reject(new Error("namespace terminating")),
    });
    const r = analysedRelease();
    r.status = { stableHash: "s1", phase: "Healthy" };
    const plan = await reconcileOnce(p, r, T0, []);
    assert.deepEqual(
      plan.status.notifications?.pending?.map((n) => [n.kind, n.deliveries.map((d) => d.target)]),
      [["started", ["slack"]]],
    );
    assert.equal(r.status.notifications?.pending?.[0]?.kind, "started", "stored by the write");
    const written = log.indexOf("writeStatus");
    const delivered = log.indexOf("deliver started");
    assert.ok(written >= 0 && delivered > written, log.join(", "));
  });

  test("a failed action is written to status with the reason, the transition it belongs to included, then retried", async () => {
    const { ports: p, log } = ports({
      execute: () => Promise.reject(new Error("the API server is down")),
    });
    const r = analysedRelease();
    r.status = { stableHash: "s1", phase: "Healthy" };
    await assert.rejects(reconcileOnce(p, r, T0, []), /the API server is down/);
    assert.equal(r.status.phase, "Degraded");
    assert.match(
      r.status.message ?? "",
      /^could not .*: the API server is down; retrying with backoff$/,
    );
    assert.equal(r.status.conditions?.find((c) => c.type === "ReconcileError")?.status, "True");
    // The release did start (status says so), so its notification is kept, once.
    assert.equal(r.status.notifications?.pending?.[0]?.kind, "started");
    assert.ok(log.includes("emit WriteFailed"), log.join(", "));
  });
});
