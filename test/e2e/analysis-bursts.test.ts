import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../harness/eventually.ts";
import { healthyStable, show, startRelease, status, weights } from "./analysis-fixtures.ts";

/**
 * Real traffic is not independent requests: errors come in bursts on one pod, and a
 * downstream outage hits every version at once. The mesh simulator makes both, and the
 * controller judges them through a real Prometheus.
 */

const waitForCanaryTraffic = (namespace: string) =>
  eventually(
    "the canary receives traffic",
    () => weights(namespace, "istio"),
    (w) => (w[1] ?? 0) > 0,
    undefined,
    60_000,
  );

describe("analysis on bursty traffic and shared incidents", { timeout: 300_000 }, () => {
  test("a healthy canary whose errors come in bursts is promoted", async (t) => {
    const release = await healthyStable(t, { mesh: "istio", requestsPerSecond: 400 });
    // Every version's error rate (0.5%) swings by ±100% from second to second, independently.
    release.sim.setBursts("default", { cv: 1, everyMs: 1_000 });
    const canaryHash = await startRelease(release);
    const done = await eventually(
      "v2 promoted to stable",
      () => status(release.namespace),
      (s) => s.phase === "Healthy" && s.stableHash === canaryHash,
      show,
      120_000,
    );
    assert.equal(done.abortReason, undefined);
    assert.deepEqual(await weights(release.namespace, "istio"), [100, 0]);
  });

  test("a shared outage holds the release without blaming the canary, then the release completes", async (t) => {
    const release = await healthyStable(t, { mesh: "istio", requestsPerSecond: 400 });
    const canaryHash = await startRelease(release);
    await waitForCanaryTraffic(release.namespace);

    // A downstream dependency fails: both versions lose 30% of their requests.
    release.sim.setSharedOutage(0.3);
    const held = await eventually(
      "the release holds on the shared outage",
      () => status(release.namespace),
      (s) =>
        s.analysis?.verdict === "Inconclusive" &&
        /shared outage|stable is failing too/.test(s.analysis.message ?? ""),
      show,
      60_000,
    );
    assert.notEqual(held.phase, "Degraded");
    assert.equal(held.abortReason, undefined);
    const weightDuringOutage = held.canaryWeight;
    // Several analysis intervals (2 s) into the outage it still neither rolls back nor moves on.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const still = await status(release.namespace);
    assert.notEqual(still.phase, "Degraded", "the canary was blamed for a shared outage");
    assert.equal(still.canaryWeight, weightDuringOutage, "the release moved on during the outage");

    release.sim.setSharedOutage(0);
    const done = await eventually(
      "v2 promoted once the outage is over",
      () => status(release.namespace),
      (s) => s.phase === "Healthy" && s.stableHash === canaryHash,
      show,
      120_000,
    );
    assert.equal(done.abortReason, undefined);
  });

  test("a canary failing 3× as often as stable is rolled back even though its errors are bursty", async (t) => {
    const release = await healthyStable(t, { mesh: "istio", requestsPerSecond: 1_000 });
    release.sim.setBursts("default", { cv: 0.5, everyMs: 1_000 });
    const canaryHash = await startRelease(release);
    release.sim.setBehaviour(canaryHash, { errorRate: 0.015 });
    const rolledBack = await eventually(
      "the rollout is Degraded",
      () => status(release.namespace),
      (s) => s.phase === "Degraded",
      show,
      120_000,
    );
    assert.equal(rolledBack.stableHash, release.stableHash, "v1 stays stable");
    assert.match(`${rolledBack.message ?? ""} ${rolledBack.abortReason ?? ""}`, /success-rate/);
    assert.deepEqual(await weights(release.namespace, "istio"), [100, 0]);
  });
});
