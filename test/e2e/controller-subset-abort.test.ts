import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CustomObjectsApi, KubernetesObjectApi } from "@kubernetes/client-node";
import { POD_TEMPLATE_HASH_LABEL } from "../../src/api/labels.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
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

const istio = (plural: string, name: string, namespace: string) => ({
  group: "networking.istio.io",
  version: "v1",
  plural,
  name,
  namespace,
});
type VirtualService = {
  spec: { http: { route: { destination: { subset?: string }; weight?: number }[] }[] };
};
type DestinationRule = { spec: { subsets: { name: string; labels?: Record<string, string> }[] } };

describe("controller: Istio subset-level routing and abort", { timeout: 120_000 }, () => {
  test("DestinationRule subsets follow the hashes; abort returns 100% to stable before the canary is scaled down", async (t) => {
    const ns = await testNamespace(t, "dr");
    await createServices(ns, ["api"]);
    const objects = KubernetesObjectApi.makeApiClient(kubeConfig());
    await objects.create({
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "api-dr", namespace: ns },
      spec: {
        host: "api",
        subsets: [
          { name: "stable", labels: { app: "api" } },
          { name: "canary", labels: { app: "api" } },
        ],
      },
    });
    await objects.create({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "api-vs", namespace: ns },
      spec: {
        hosts: ["api"],
        http: [
          {
            route: [
              { destination: { host: "api", subset: "stable" }, weight: 100 },
              { destination: { host: "api", subset: "canary" }, weight: 0 },
            ],
          },
        ],
      },
    });
    const strategy = {
      canary: {
        stableService: "api",
        canaryService: "api",
        abortScaleDownDelaySeconds: 2,
        trafficRouting: {
          istio: {
            virtualService: { name: "api-vs" },
            destinationRule: { name: "api-dr", stableSubset: "stable", canarySubset: "canary" },
          },
        },
        steps: [{ setWeight: 40 }, { pause: {} }],
      },
    };
    await createRollout(ns, { replicas: 2, strategy }, "api:1");
    await controller(t, ns);
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    const weights = async () =>
      (
        (await custom.getNamespacedCustomObject(
          istio("virtualservices", "api-vs", ns),
        )) as VirtualService
      ).spec.http[0]?.route.map((r) => r.weight ?? 0) ?? [];
    const subsetHash = async (name: string) =>
      (
        (await custom.getNamespacedCustomObject(
          istio("destinationrules", "api-dr", ns),
        )) as DestinationRule
      ).spec.subsets.find((s) => s.name === name)?.labels?.[POD_TEMPLATE_HASH_LABEL];

    await setImage(ns, "api:2");
    const paused = await untilStatus(
      ns,
      "paused at 40%",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    assert.deepEqual(await weights(), [60, 40]);
    assert.equal(await subsetHash("canary"), paused.canaryHash);
    assert.equal(await subsetHash("stable"), paused.stableHash);

    await sendCommand(ns, "abort", "dr-abort");
    // Watch the order of events: never a scaled-down canary while the route still sends it traffic.
    const seen: string[] = [];
    await eventually(
      "canary scaled down",
      async () => {
        const [w, list] = await Promise.all([weights(), versions(ns)]);
        const canaryReplicas = byImage(list, "api:2")?.replicas ?? -1;
        seen.push(`weights ${w.join("/")} canary replicas ${canaryReplicas}`);
        return { w, canaryReplicas };
      },
      ({ canaryReplicas }) => canaryReplicas === 0,
    );
    const violations = seen.filter(
      (line) => line.endsWith("replicas 0") && !line.startsWith("weights 100/0"),
    );
    assert.deepEqual(violations, []);
    assert.equal((await status(ns)).phase, "Aborted");
  });
});
