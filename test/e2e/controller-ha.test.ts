import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  byImage,
  controller,
  createRollout,
  createServices,
  sendCommand,
  setImage,
  status,
  versions,
  untilStatus,
} from "./controller-fixtures.ts";

const STEPS = [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }];
const CANARY = {
  replicas: 4,
  strategy: {
    canary: {
      stableService: "api-stable",
      canaryService: "api-canary",
      scaleDownDelaySeconds: 2,
      steps: STEPS,
    },
  },
};

async function reconciles(handle: {
  metrics: {
    reconcileSeconds: { get(): Promise<{ values: { metricName?: string; value: number }[] }> };
  };
}): Promise<number> {
  const values = (await handle.metrics.reconcileSeconds.get()).values;
  return values.find((v) => v.metricName === "aviary_reconcile_duration_seconds_count")?.value ?? 0;
}

describe("controller restarts and high availability", { timeout: 120_000 }, () => {
  test("a restarted controller continues the release from the step it was on", async (t) => {
    const ns = await testNamespace(t, "ctl");
    await createServices(ns, ["api-stable", "api-canary"]);
    await createRollout(ns, CANARY, "api:1");
    const first = await controller(t, ns);
    await eventually(
      "v1 Healthy",
      () => status(ns),
      (s) => s.phase === "Healthy",
    );
    await setImage(ns, "api:2");
    const before = await eventually(
      "paused at step 2",
      () => status(ns),
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    await first.stop();

    await controller(t, ns);
    await sendCommand(ns, "promote", "p-1");
    const after = await untilStatus(
      ns,
      "the new controller takes the release on from step 2 to step 4",
      (s) => s.phase === "Paused" && s.currentStepIndex === 3,
    );
    assert.equal(after.canaryHash, before.canaryHash);
    assert.equal(after.stableHash, before.stableHash);
    const list = await versions(ns);
    assert.equal(list.length, 2, "no extra ReplicaSet was made");
    assert.equal(byImage(list, "api:2")?.replicas, 2);
  });

  test("two controllers: only the leader reconciles; when it stops, the other takes over", async (t) => {
    const ns = await testNamespace(t, "ctl");
    await createServices(ns, ["api-stable", "api-canary"]);
    const election = { namespace: ns, leaseMs: 3_000, renewMs: 1_000, retryMs: 300 };
    const a = await controller(t, ns, { leaderElection: { ...election, identity: "a" } });
    const b = await controller(t, ns, { leaderElection: { ...election, identity: "b" } });
    await eventually(
      "one leader",
      () => Promise.resolve([a.isLeader(), b.isLeader()]),
      (l) => l.filter(Boolean).length === 1,
    );
    const [leader, standby] = a.isLeader() ? [a, b] : [b, a];

    await createRollout(ns, CANARY, "api:1");
    await eventually(
      "v1 Healthy",
      () => status(ns),
      (s) => s.phase === "Healthy",
    );
    assert.equal(await reconciles(standby), 0, "the standby reconciled nothing");
    assert.ok((await reconciles(leader)) > 0);

    await leader.stop();
    await eventually(
      "the standby becomes leader",
      () => Promise.resolve(standby.isLeader()),
      (l) => l,
    );
    await setImage(ns, "api:2");
    await eventually(
      "the new leader runs the release",
      () => status(ns),
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    assert.ok((await reconciles(standby)) > 0);
  });

  test("a missing Service is reported in the status, naming it, and the release recovers once it exists", async (t) => {
    const ns = await testNamespace(t, "ctl");
    await createServices(ns, ["api-stable"]);
    await createRollout(ns, CANARY, "api:1");
    await controller(t, ns);
    const degraded = await eventually(
      "InvalidSpec",
      () => status(ns),
      (s) => s.conditions?.some((c) => c.type === "InvalidSpec") === true,
    );
    const condition = degraded.conditions?.find((c) => c.type === "InvalidSpec");
    assert.match(
      condition?.message ?? "",
      /spec\.strategy\.canary\.canaryService: Service "api-canary" was not found/,
    );
    await createServices(ns, ["api-canary"]);
    await untilStatus(ns, "Healthy once the Service exists", (s) => s.phase === "Healthy");
  });
});
