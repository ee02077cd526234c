import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseRolloutText } from "../api/load.ts";
import type { Rollout } from "../api/rollout.ts";
import { DEFAULT_SIMULATION, simulate, type SimulationOptions } from "./simulate.ts";
import type { SimWorld } from "./world.ts";

function example(file: string): Rollout {
  const parsed = parseRolloutText(
    readFileSync(new URL(`../../examples/${file}`, import.meta.url), "utf8"),
    file,
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.rollout;
}

/** Checks the DESIGN §3 traffic invariants after every reconcile of a simulated release. */
function invariantChecker() {
  const violations: string[] = [];
  let t = 0;
  const check = (world: SimWorld, status: Rollout["status"]): void => {
    t++;
    const canary = world.selectors.canary;
    // 1. Traffic never goes to pods that are not available.
    if (
      (world.canaryWeight > 0 || world.headerRoutes.length > 0) &&
      world.available(canary) === 0
    ) {
      violations.push(
        `#${t}: ${world.canaryWeight}% to canary ${canary ?? "?"} with no available pod`,
      );
    }
    // 2. On rollback, traffic is back on stable before the canary is scaled down.
    const aborted = status?.abortedAt !== undefined;
    const canaryRs = world.observeReplicaSets().find((r) => r.hash === status?.canaryHash);
    if (
      aborted &&
      canaryRs?.replicas === 0 &&
      (world.canaryWeight > 0 || world.headerRoutes.length > 0)
    ) {
      violations.push(`#${t}: canary scaled down while the router still sends it traffic`);
    }
  };
  return { violations, check };
}

const run = (
  file: string,
  scenario: SimulationOptions["scenario"],
  extra: Partial<SimulationOptions> = {},
) => simulate(example(file), [], { ...DEFAULT_SIMULATION, scenario, ...extra });

describe("aviary simulate on the examples", () => {
  test("a healthy Istio canary is promoted through every step, with the invariants held throughout", async () => {
    const invariants = invariantChecker();
    const result = await run("istio-canary.yaml", "healthy", { onReconcile: invariants.check });
    assert.equal(result.outcome, "promoted");
    assert.deepEqual(invariants.violations, []);
    const steps = new Set(result.timeline.map((row) => row.step));
    for (const step of ["1/8 setHeaderRoute beta", "3/8 setWeight 10", "7/8 setWeight 50"])
      assert.ok(steps.has(step), step);
    assert.deepEqual(
      result.notifications.map((n) => n.kind),
      ["started", "promoted"],
    );
  });

  test("5% canary errors (stable 0.5%) roll back, naming the success-rate evidence", async () => {
    const invariants = invariantChecker();
    const result = await run("istio-canary.yaml", "errors", { onReconcile: invariants.check });
    assert.equal(result.outcome, "rolledBack");
    assert.match(result.reason, /success-rate/);
    assert.deepEqual(invariants.violations, []);
    assert.deepEqual(
      result.notifications.map((n) => n.kind),
      ["started", "rolledBack"],
    );
  });

  test("a P99 regression rolls back on the latency metric", async () => {
    const result = await run("istio-canary.yaml", "latency");
    assert.equal(result.outcome, "rolledBack");
    assert.match(result.reason, /p99-latency/);
  });

  test("with no traffic the release pauses and says why; it neither promotes nor rolls back", async () => {
    const result = await run("istio-canary.yaml", "no-traffic");
    assert.equal(result.outcome, "paused");
    assert.match(result.reason, /no traffic/);
  });

  test("the same seed replays the same run", async () => {
    const a = await run("istio-canary.yaml", "errors", { seed: 7 });
    const b = await run("istio-canary.yaml", "errors", { seed: 7 });
    assert.deepEqual(a, b);
  });

  test("flags override the scenario: equal error rates under 'errors' promote", async () => {
    const result = await run("istio-canary.yaml", "errors", { canaryErrorRate: 0.005 });
    assert.equal(result.outcome, "promoted");
  });

  test("blue/green is promoted after its auto-promotion delay", async () => {
    const result = await run("bluegreen.yaml", "healthy");
    assert.equal(result.outcome, "promoted");
    assert.ok(result.durationSeconds >= 60);
  });

  test("a Linkerd canary through an HTTPRoute rolls back on errors", async () => {
    const result = await run("gatewayapi-linkerd-canary.yaml", "errors");
    assert.equal(result.outcome, "rolledBack");
  });
});
