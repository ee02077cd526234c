import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AppsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  byImage,
  controller,
  createServices,
  podTemplate,
  versions,
  untilStatus,
} from "./controller-fixtures.ts";

test(
  "workloadRef: Aviary takes over a Deployment's template, scales the Deployment down once its own pods serve, and releases a new template at once",
  { timeout: 120_000 },
  async (t) => {
    const ns = await testNamespace(t, "wr");
    await createServices(ns, ["api-stable", "api-canary"]);
    const objects = KubernetesObjectApi.makeApiClient(kubeConfig());
    await objects.create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "api", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "api" } },
        template: podTemplate("api:1"),
      },
    });
    await objects.create({
      apiVersion: "aviary.dev/v1alpha1",
      kind: "Rollout",
      metadata: { name: "api", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "api" } },
        workloadRef: { name: "api" },
        strategy: {
          canary: {
            stableService: "api-stable",
            canaryService: "api-canary",
            steps: [{ setWeight: 50 }, { pause: {} }],
          },
        },
      },
    });
    // No periodic resync in this test: only the Deployment's watch can start the release.
    await controller(t, ns, { resyncMs: 600_000 });
    await untilStatus(ns, "Rollout Healthy", (s) => s.phase === "Healthy");
    assert.equal(
      byImage(await versions(ns), "api:1")?.replicas,
      2,
      "Aviary runs the Deployment's template",
    );
    const apps = kubeConfig().makeApiClient(AppsV1Api);
    await eventually(
      "Deployment scaled to 0",
      () => apps.readNamespacedDeployment({ name: "api", namespace: ns }),
      (d) => d.spec?.replicas === 0,
    );

    await apps.patchNamespacedDeployment(
      { name: "api", namespace: ns, body: { spec: { template: podTemplate("api:2") } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await untilStatus(ns, "the new template paused at 50%", (s) => s.phase === "Paused");
    assert.ok(
      (byImage(await versions(ns), "api:2")?.replicas ?? 0) > 0,
      "the canary runs the Deployment's new template",
    );
    // No traffic routing: a 50% step splits the replicas, and stable keeps its share.
    assert.equal(byImage(await versions(ns), "api:1")?.replicas, 1, "stable keeps half the pods");
  },
);
