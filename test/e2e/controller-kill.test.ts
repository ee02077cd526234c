import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { kubeconfigPath, testNamespace } from "../harness/env.ts";
import { REPO_ROOT } from "../harness/testenv.ts";
import {
  createRollout,
  createServices,
  setImage,
  versions,
  untilStatus,
} from "./controller-fixtures.ts";

/** `aviary controller` as its own process, as it runs in a cluster. */
function startControllerProcess(namespace: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, "src/cli/main.ts"),
      "controller",
      "--kubeconfig",
      kubeconfigPath(),
      "--namespace",
      namespace,
      "--no-leader-elect",
      "--metrics-port",
      "0",
    ],
    { cwd: REPO_ROOT, stdio: "ignore", env: { ...process.env, AVIARY_LOG_LEVEL: "warn" } },
  );
}

test(
  "a controller process killed mid-release (SIGKILL) is replaced and the release continues from the same step",
  { timeout: 120_000 },
  async (t) => {
    const ns = await testNamespace(t, "kill");
    await createServices(ns, ["api-stable", "api-canary"]);
    const strategy = {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        steps: [{ setWeight: 25 }, { pause: { duration: "4s" } }, { setWeight: 50 }, { pause: {} }],
      },
    };
    await createRollout(ns, { replicas: 4, strategy }, "api:1");
    const processes: ChildProcess[] = [];
    t.after(() => processes.forEach((p) => p.kill("SIGKILL")));

    processes.push(startControllerProcess(ns));
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "api:2");
    const mid = await untilStatus(
      ns,
      "in the 4 s pause",
      (s) => s.currentStepIndex === 1 && s.canaryHash !== undefined,
    );
    processes[0]?.kill("SIGKILL");

    processes.push(startControllerProcess(ns));
    const resumed = await untilStatus(
      ns,
      "the new process carries the release to the last pause",
      (s) => s.phase === "Paused" && s.currentStepIndex === 3,
    );
    assert.equal(resumed.canaryHash, mid.canaryHash, "the same release, not a new one");
    assert.equal(resumed.stableHash, mid.stableHash);
    assert.equal((await versions(ns)).length, 2, "no extra ReplicaSet");
  },
);
