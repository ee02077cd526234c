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
  serviceHash,
  setImage,
  status,
  versions,
  untilStatus,
} from "./controller-fixtures.ts";

const CANARY = {
  replicas: 4,
  strategy: {
    canary: {
      stableService: "api-stable",
      canaryService: "api-canary",
      scaleDownDelaySeconds: 2,
      abortScaleDownDelaySeconds: 2,
      steps: [{ setWeight: 25 }, { pause: { duration: "2s" } }, { setWeight: 50 }, { pause: {} }],
    },
  },
};

describe("controller on a real cluster", { timeout: 120_000 }, () => {
  test("replica canary v1 → v2: steps follow the plan, v2 becomes stable, v1 is scaled down", async (t) => {
    const ns = await testNamespace(t, "ctl");
    await createServices(ns, ["api-stable", "api-canary"]);
    await createRollout(ns, CANARY, "api:1");
    await controller(t, ns);

    const v1 = await eventually(
      "v1 Healthy with 4 replicas",
      () => status(ns),
      (s) => s.phase === "Healthy" && s.stableHash !== undefined,
    );
    assert.equal(await serviceHash(ns, "api-stable"), v1.stableHash);

    await setImage(ns, "api:2");
    const paused = await untilStatus(
      ns,
      "the release waits for a person at the last pause (step 4)",
      (s) => s.phase === "Paused" && s.currentStepIndex === 3,
    );
    const mid = await versions(ns);
    assert.equal(byImage(mid, "api:2")?.replicas, 2, "50% of 4 replicas run v2");
    assert.equal(await serviceHash(ns, "api-canary"), paused.canaryHash);

    await sendCommand(ns, "promote", "promote-1");
    const done = await untilStatus(
      ns,
      "v2 promoted to stable",
      (s) => s.phase === "Healthy" && s.stableHash === paused.canaryHash,
    );
    assert.equal(await serviceHash(ns, "api-stable"), done.stableHash);
    await eventually(
      "v1 scaled down after the delay",
      () => versions(ns),
      (list) =>
        (byImage(list, "api:1")?.replicas ?? 0) === 0 && byImage(list, "api:2")?.replicas === 4,
    );
  });

  test("abort mid-release: the canary goes away, stable keeps serving, the pending command is executed once", async (t) => {
    const ns = await testNamespace(t, "ctl");
    await createServices(ns, ["api-stable", "api-canary"]);
    await createRollout(ns, CANARY, "api:1");
    await controller(t, ns);
    const v1 = await eventually(
      "v1 Healthy",
      () => status(ns),
      (s) => s.phase === "Healthy" && s.stableHash !== undefined,
    );

    await setImage(ns, "api:2");
    await eventually(
      "paused at step 4",
      () => status(ns),
      (s) => s.phase === "Paused" && s.currentStepIndex === 3,
    );
    await sendCommand(ns, "abort", "abort-1");
    const aborted = await eventually(
      "Aborted",
      () => status(ns),
      (s) => s.phase === "Aborted" && s.lastCommandId === "abort-1",
      (s) => [s.phase, s.lastCommandId, s.message],
    );
    assert.equal(aborted.stableHash, v1.stableHash);
    assert.equal(await serviceHash(ns, "api-stable"), v1.stableHash);
    await eventually(
      "the canary is scaled down and stable is whole",
      () => versions(ns),
      (list) =>
        (byImage(list, "api:2")?.replicas ?? 0) === 0 && byImage(list, "api:1")?.replicas === 4,
    );
  });
});
