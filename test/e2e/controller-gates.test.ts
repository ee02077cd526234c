import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  controller,
  createRollout,
  createServices,
  setImage,
  untilStatus,
} from "./controller-fixtures.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("controller: what holds a release, and what is refused", { timeout: 120_000 }, () => {
  test("an HTTPRoute whose Gateway has not accepted it holds the weight step until it does", async (t) => {
    const ns = await testNamespace(t, "gate");
    await createServices(ns, ["api-stable", "api-canary"]);
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    const routeRef = {
      group: "gateway.networking.k8s.io",
      version: "v1",
      plural: "httproutes",
      namespace: ns,
      name: "api",
    };
    await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "api", namespace: ns },
      spec: {
        parentRefs: [{ name: "edge" }],
        rules: [
          {
            backendRefs: [
              { name: "api-stable", port: 80, weight: 100 },
              { name: "api-canary", port: 80, weight: 0 },
            ],
          },
        ],
      },
    });
    const accepted = (value: "True" | "False") =>
      custom.patchNamespacedCustomObjectStatus(
        {
          ...routeRef,
          body: {
            status: {
              parents: [
                {
                  parentRef: { name: "edge" },
                  controllerName: "example.com/gateway",
                  conditions: [
                    {
                      type: "Accepted",
                      status: value,
                      reason: value === "True" ? "Accepted" : "NotAllowedByListeners",
                      message:
                        value === "True"
                          ? "accepted"
                          : "listener edge/http does not allow routes from this namespace",
                      lastTransitionTime: new Date().toISOString(),
                      observedGeneration: 1,
                    },
                  ],
                },
              ],
            },
          },
        },
        MERGE,
      );
    await accepted("False");
    const strategy = {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        trafficRouting: { gatewayAPI: { httpRoute: { name: "api" } } },
        steps: [{ setWeight: 30 }, { pause: {} }],
      },
    };
    await createRollout(ns, { replicas: 2, strategy }, "api:1");
    await controller(t, ns);
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    await setImage(ns, "api:2");
    const held = await untilStatus(ns, "held by the Gateway", (s) =>
      /does not allow routes/.test(s.message ?? ""),
    );
    assert.equal(held.currentStepIndex, 0);
    await accepted("True");
    await untilStatus(
      ns,
      "continues once accepted",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
  });

  test("a MetricTemplate with an unknown variable is InvalidSpec naming the field, and nothing moves", async (t) => {
    const ns = await testNamespace(t, "mt");
    await createServices(ns, ["api-stable", "api-canary"]);
    await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
      apiVersion: "aviary.dev/v1alpha1",
      kind: "MetricTemplate",
      metadata: { name: "queue-depth", namespace: ns },
      spec: { query: 'max(queue_depth{namespace="{{namespace}}", pod=~"{{podz}}.*"})' },
    });
    const strategy = {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        analysis: {
          judge: "threshold" as const,
          prometheus: { address: "http://127.0.0.1:1" },
          metrics: [{ name: "queue", templateRef: { name: "queue-depth" }, max: 100 }],
        },
        steps: [{ setWeight: 50 }, { pause: {} }],
      },
    };
    await createRollout(ns, { replicas: 2, strategy }, "api:1");
    await controller(t, ns);
    const invalid = await untilStatus(
      ns,
      "InvalidSpec",
      (s) => s.conditions?.some((c) => c.type === "InvalidSpec" && c.status === "True") === true,
    );
    const message = invalid.conditions?.find((c) => c.type === "InvalidSpec")?.message ?? "";
    assert.match(message, /spec\.strategy\.canary\.analysis\.metrics\[0\]\.templateRef/);
    assert.match(message, /\{\{podz\}\}/);
    assert.equal(invalid.phase, "Degraded");
  });

  test("one broken Rollout never stops the others", async (t) => {
    const ns = await testNamespace(t, "two");
    await createServices(ns, ["api-stable", "api-canary"]);
    const objects = KubernetesObjectApi.makeApiClient(kubeConfig());
    // Accepted by the API server, refused by semantic validation: its VirtualService does not exist.
    await objects.create({
      apiVersion: "aviary.dev/v1alpha1",
      kind: "Rollout",
      metadata: { name: "broken", namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "broken" } },
        template: {
          metadata: { labels: { app: "broken" } },
          spec: { containers: [{ name: "b", image: "b:1" }] },
        },
        strategy: {
          canary: {
            stableService: "api-stable",
            canaryService: "api-canary",
            trafficRouting: { istio: { virtualService: { name: "missing-vs" } } },
            steps: [{ setWeight: 10 }],
          },
        },
      },
    });
    await createRollout(
      ns,
      {
        replicas: 2,
        strategy: {
          canary: {
            stableService: "api-stable",
            canaryService: "api-canary",
            steps: [{ setWeight: 50 }],
          },
        },
      },
      "api:1",
    );
    await controller(t, ns);
    await untilStatus(ns, "the healthy one is Healthy", (s) => s.phase === "Healthy");
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    const broken = await eventually(
      "the broken one says why",
      async () =>
        (
          (await custom.getNamespacedCustomObject({
            group: "aviary.dev",
            version: "v1alpha1",
            plural: "rollouts",
            namespace: ns,
            name: "broken",
          })) as { status?: { phase?: string; message?: string } }
        ).status ?? {},
      (s) => s.phase === "Degraded",
      (s) => [s.phase, s.message],
    );
    assert.match(broken.message ?? "", /virtualService\.name/);
    assert.match(broken.message ?? "", /missing-vs/);
  });
});
