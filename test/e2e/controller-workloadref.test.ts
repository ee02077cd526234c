import { test } from "node:test";
import assert from "node:assert/strict";
import { AppsV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
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
  "workloadRef: Aviary takes over a Deployment's template and scales the Deployment down once its own pods serve",
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
    await controller(t, ns);
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
  },
);
