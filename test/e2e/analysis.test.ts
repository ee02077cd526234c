import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { prometheusUrl } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  healthyStable,
  setPrometheusAddress,
  show,
  startRelease,
  status,
  STEPS,
  weights,
  type Mesh,
} from "./analysis-fixtures.ts";

/**
 * Analysis on a real API server and a real Prometheus: the mesh simulator sends traffic
 * by the live weights and exports Istio- or Linkerd-shaped metrics per version, and the
 * controller judges canary against stable from what Prometheus scraped.
 */

const RPS = 200;
const LAST_STEP = STEPS.length;
/** Nothing listens here: a Prometheus that cannot be reached. */
const CLOSED_PORT_ADDRESS = "http://127.0.0.1:1";

const waitForCanaryTraffic = (namespace: string, mesh: Mesh) =>
  eventually(
    "the canary receives traffic",
    () => weights(namespace, mesh),
    (w) => (w[1] ?? 0) > 0,
    undefined,
    60_000,
  );

const waitForStableOnly = (namespace: string, mesh: Mesh) =>
  eventually(
    "all traffic back on stable",
    () => weights(namespace, mesh),
    (w) => w[0] === 100 && (w[1] ?? 0) === 0,
    undefined,
    60_000,
  );

describe("analysis gates each step on the mesh's golden signals", { timeout: 180_000 }, () => {
  test("a healthy canary is promoted through every step (Istio, VirtualService)", async (t) => {
    const release = await healthyStable(t, { mesh: "istio", requestsPerSecond: RPS });
    const canaryHash = await startRelease(release);

    await eventually(
      "the canary reaches 50% after analysed steps",
      () => weights(release.namespace, "istio"),
      (w) => w[0] === 50 && w[1] === 50,
      undefined,
      60_000,
    );
    const mid = await status(release.namespace);
    assert.ok((mid.analysis?.samples ?? 0) > 0, "the steps were analysed");
    assert.notEqual(mid.analysis?.verdict, "Failed");
    const done = await eventually(
      "v2 promoted to stable",
      () => status(release.namespace),
      (s) => s.phase === "Healthy" && s.stableHash === canaryHash,
      show,
      90_000,
    );
    assert.deepEqual(await weights(release.namespace, "istio"), [100, 0]);
    assert.equal(done.abortReason, undefined);
  });

  test("a canary failing 5% of requests (stable 0.5%) is rolled back on success-rate evidence (Istio)", async (t) => {
    const release = await healthyStable(t, { mesh: "istio", requestsPerSecond: RPS });
    const canaryHash = await startRelease(release);
    await waitForCanaryTraffic(release.namespace, "istio");

    release.sim.setBehaviour(canaryHash, { errorRate: 0.05 });
    const injectedAt = Date.now();
    await waitForStableOnly(release.namespace, "istio");
    const reactionSeconds = (Date.now() - injectedAt) / 1000;
    t.diagnostic(
      `reaction time, error injection → VirtualService 100% stable: ${reactionSeconds.toFixed(1)} s`,
    );
    console.log(`[analysis e2e] istio reaction time: ${reactionSeconds.toFixed(1)} s`);

    const rolledBack = await eventually(
      "the rollout is Degraded",
      () => status(release.namespace),
      (s) => s.phase === "Degraded",
      show,
      30_000,
    );
    const said = `${rolledBack.message ?? ""} ${rolledBack.abortReason ?? ""}`;
    assert.match(said, /success-rate/, "the status names the metric");
    assert.match(
      said,
      /success \d+(\.\d+)?% vs stable \d+(\.\d+)?%/,
      "the status gives the values",
    );
    assert.equal(rolledBack.stableHash, release.stableHash, "v1 stays stable");
  });

  test("a canary whose P99 latency regresses is rolled back on latency evidence (Istio)", async (t) => {
    const release = await healthyStable(t, { mesh: "istio", requestsPerSecond: RPS });
    const canaryHash = await startRelease(release);
    release.sim.setBehaviour(canaryHash, { latencyP50Ms: 200, latencyP99Ms: 1500 });

    await waitForCanaryTraffic(release.namespace, "istio");
    await waitForStableOnly(release.namespace, "istio");
    const rolledBack = await eventually(
      "the rollout is Degraded",
      () => status(release.namespace),
      (s) => s.phase === "Degraded",
      show,
      30_000,
    );
    const said = `${rolledBack.message ?? ""} ${rolledBack.abortReason ?? ""}`;
    assert.match(said, /p99-latency/, "the status names the latency metric");
    assert.match(said, /P99/);
    assert.equal(rolledBack.stableHash, release.stableHash);
  });

  test("with no traffic the release holds, saying so, and continues when traffic comes", async (t) => {
    const release = await healthyStable(t, { mesh: "istio", requestsPerSecond: 0 });
    const canaryHash = await startRelease(release);

    const held = await eventually(
      "the rollout pauses for lack of traffic",
      () => status(release.namespace),
      (s) => s.phase === "Paused" && /no traffic/.test(s.message ?? ""),
      show,
      60_000,
    );
    // Several analysis intervals without traffic: it neither fails nor moves on.
    for (let i = 0; i < 8; i++) {
      await sleep(1_000);
      const now = await status(release.namespace);
      assert.notEqual(now.phase, "Degraded", "no traffic is not a failure");
      assert.notEqual(now.phase, "Healthy", "no traffic is not a pass");
      assert.equal(now.currentStepIndex, held.currentStepIndex, "the steps do not advance");
    }

    release.sim.setRequestsPerSecond(RPS);
    await eventually(
      "the steps advance once traffic flows",
      () => status(release.namespace),
      (s) => (s.currentStepIndex ?? 0) > (held.currentStepIndex ?? 0),
      show,
      60_000,
    );
    const done = await eventually(
      "v2 promoted",
      () => status(release.namespace),
      (s) => s.phase === "Healthy" && s.stableHash === canaryHash,
      show,
      90_000,
    );
    assert.equal(done.currentStepIndex ?? LAST_STEP, LAST_STEP);
  });

  // The harness's Prometheus is shared by every test, so it is not stopped: the Rollout
  // points at a closed port instead (Prometheus unreachable), and a spec edit brings the
  // real address back mid-release.
  test("with Prometheus unreachable (a closed port) the release holds, saying so, and continues once it is reachable", async (t) => {
    const release = await healthyStable(t, {
      mesh: "istio",
      requestsPerSecond: RPS,
      prometheusAddress: CLOSED_PORT_ADDRESS,
    });
    const canaryHash = await startRelease(release);

    const held = await eventually(
      "the rollout pauses because Prometheus cannot be reached",
      () => status(release.namespace),
      (s) => s.phase === "Paused" && /unreachable/i.test(s.message ?? ""),
      show,
      60_000,
    );
    assert.match(held.message ?? "", /127\.0\.0\.1:1/, "the message names the address");
    for (let i = 0; i < 6; i++) {
      await sleep(1_000);
      const now = await status(release.namespace);
      assert.notEqual(now.phase, "Degraded", "an unreachable Prometheus is not a failure");
      assert.equal(now.currentStepIndex, held.currentStepIndex, "the steps do not advance");
    }

    await setPrometheusAddress(release.namespace, prometheusUrl());
    await eventually(
      "the steps advance once Prometheus answers",
      () => status(release.namespace),
      (s) => (s.currentStepIndex ?? 0) > (held.currentStepIndex ?? 0),
      show,
      60_000,
    );
    await eventually(
      "v2 promoted",
      () => status(release.namespace),
      (s) => s.phase === "Healthy" && s.stableHash === canaryHash,
      show,
      90_000,
    );
  });

  test("a Linkerd-shaped canary behind an HTTPRoute is rolled back on errors", async (t) => {
    const release = await healthyStable(t, { mesh: "linkerd", requestsPerSecond: RPS });
    const canaryHash = await startRelease(release);
    await waitForCanaryTraffic(release.namespace, "linkerd");

    release.sim.setBehaviour(canaryHash, { errorRate: 0.05 });
    const injectedAt = Date.now();
    await waitForStableOnly(release.namespace, "linkerd");
    const reactionSeconds = (Date.now() - injectedAt) / 1000;
    t.diagnostic(
      `reaction time, error injection → HTTPRoute 100% stable: ${reactionSeconds.toFixed(1)} s`,
    );
    console.log(`[analysis e2e] linkerd reaction time: ${reactionSeconds.toFixed(1)} s`);

    const rolledBack = await eventually(
      "the rollout is Degraded",
      () => status(release.namespace),
      (s) => s.phase === "Degraded",
      show,
      30_000,
    );
    const said = `${rolledBack.message ?? ""} ${rolledBack.abortReason ?? ""}`;
    assert.match(said, /success-rate/);
    assert.equal(rolledBack.stableHash, release.stableHash);
  });
});
