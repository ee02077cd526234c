import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { startController } from "../../src/kube/controller.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  createRollout,
  createServices,
  quietLog,
  setImage,
  untilStatus,
} from "./controller-fixtures.ts";

type SecurityContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];

/** A KubeConfig that records every request the controller sends (client-node calls this once per request). */
class RecordingKubeConfig extends KubeConfig {
  readonly requests: string[] = [];

  override async applySecurityAuthentication(context: SecurityContext): Promise<void> {
    this.requests.push(`${context.getHttpMethod()} ${context.getUrl()}`);
    await super.applySecurityAuthentication(context);
  }
}

const CANARY = {
  replicas: 1,
  strategy: { canary: { stableService: "api-stable", canaryService: "api-canary", steps: [] } },
};

async function readyz(port: number | undefined): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${String(port)}/readyz`);
  return response.status;
}

/** A controller for `ns` whose every request to the API server is recorded, stopped after the test. */
async function recordingController(
  t: TestContext,
  ns: string,
  extra: { metricsPort?: number } = {},
): Promise<{ kc: RecordingKubeConfig; handle: Awaited<ReturnType<typeof startController>> }> {
  const kc = new RecordingKubeConfig();
  kc.loadFromString(kubeConfig().exportConfig());
  const handle = await startController({
    kubeConfig: kc,
    namespace: ns,
    log: quietLog,
    leaderElection: false,
    ...extra,
  });
  t.after(() => handle.stop());
  return { kc, handle };
}

describe("controller reads from its watch cache", { timeout: 120_000 }, () => {
  test("a Healthy Rollout costs the API server nothing between watch events; /readyz says ready", async (t) => {
    const ns = await testNamespace(t, "cache");
    await createServices(ns, ["api-stable", "api-canary"]);
    await createRollout(ns, CANARY, "api:1");
    const { kc, handle } = await recordingController(t, ns, { metricsPort: 0 });
    await eventually(
      "ready once the caches are filled",
      () => readyz(handle.metricsPort),
      (s) => s === 200,
    );
    await untilStatus(ns, "Healthy", (s) => s.phase === "Healthy");

    await sleep(1_000);
    const before = kc.requests.length;
    await sleep(3_000);
    const made = kc.requests.slice(before).filter((r) => !r.includes("watch=true"));
    assert.deepEqual(made, [], "no reads or writes while nothing changes");
  });

  test("routing kinds are watched only once a Rollout names one", async (t) => {
    const ns = await testNamespace(t, "cache-kinds");
    await createServices(ns, ["api-stable", "api-canary"]);
    await createRollout(ns, CANARY, "api:1");
    const { kc } = await recordingController(t, ns);
    await untilStatus(ns, "Healthy", (s) => s.phase === "Healthy");
    const watched = (plural: string) =>
      kc.requests.some((r) => r.includes(`/${plural}?`) && r.includes("watch=true"));
    assert.ok(watched("services"), "the Services a Rollout names are watched");
    for (const plural of ["virtualservices", "destinationrules", "httproutes"])
      assert.ok(!watched(plural), `no Rollout names a ${plural} object: not watched`);

    // The Rollout now names a VirtualService (that does not exist yet): its kind is watched.
    await kubeConfig()
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject(
        {
          group: "aviary.dev",
          version: "v1alpha1",
          namespace: ns,
          plural: "rollouts",
          name: "api",
          body: {
            spec: {
              strategy: {
                canary: { trafficRouting: { istio: { virtualService: { name: "api-vs" } } } },
              },
            },
          },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    await eventually(
      "a VirtualService watch",
      () => Promise.resolve(watched("virtualservices")),
      (w) => w,
    );
    assert.ok(!watched("httproutes"), "still no HTTPRoute watch");
  });

  test("a Rollout waiting for `aviary promote` is not rewritten while it waits", async (t) => {
    const ns = await testNamespace(t, "still");
    await createServices(ns, ["api-stable", "api-canary"]);
    const paused = {
      replicas: 2,
      strategy: {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          steps: [{ setWeight: 50 }, { pause: {} }],
        },
      },
    };
    await createRollout(ns, paused, "api:1");
    const { kc } = await recordingController(t, ns);
    await untilStatus(ns, "Healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "api:2");
    await untilStatus(
      ns,
      "waiting for promote",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );

    await sleep(1_000);
    const before = kc.requests.length;
    await sleep(3_000);
    const writes = kc.requests.slice(before).filter((r) => !r.startsWith("GET"));
    assert.deepEqual(writes, [], "no status writes while nothing changes");
  });

  test("a standby waiting for the lease is ready too", async (t) => {
    const ns = await testNamespace(t, "ready");
    const election = { namespace: ns, leaseMs: 60_000, renewMs: 1_000, retryMs: 500 };
    const start = (identity: string) =>
      startController({
        kubeConfig: kubeConfig(),
        namespace: ns,
        log: quietLog,
        leaderElection: { ...election, identity },
        metricsPort: 0,
      });
    const leader = await start("first");
    t.after(() => leader.stop());
    await eventually(
      "the first one leads",
      () => Promise.resolve(leader.isLeader()),
      (l) => l,
    );
    const standby = await start("second");
    t.after(() => standby.stop());
    await eventually(
      "leader ready",
      () => readyz(leader.metricsPort),
      (s) => s === 200,
    );
    assert.equal(standby.isLeader(), false);
    assert.equal(await readyz(standby.metricsPort), 200);
  });
});
