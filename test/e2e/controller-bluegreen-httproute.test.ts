import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CustomObjectsApi, KubernetesObjectApi } from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  byImage,
  controller,
  createRollout,
  createServices,
  sendCommand,
  serviceHash,
  setImage,
  versions,
  untilStatus,
} from "./controller-fixtures.ts";

describe("controller: blue/green and Gateway API", { timeout: 120_000 }, () => {
  test("blue/green: preview first, promote switches the active Service, the old version leaves after the delay", async (t) => {
    const ns = await testNamespace(t, "bg");
    await createServices(ns, ["api-active", "api-preview"]);
    const strategy = {
      blueGreen: {
        activeService: "api-active",
        previewService: "api-preview",
        autoPromotionEnabled: false,
        scaleDownDelaySeconds: 2,
      },
    };
    await createRollout(ns, { replicas: 2, strategy }, "api:1");
    await controller(t, ns);
    const v1 = await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    await setImage(ns, "api:2");
    const waiting = await untilStatus(
      ns,
      "preview ready, waiting for promote",
      (s) => s.phase === "Paused" && s.canaryHash !== undefined,
    );
    assert.equal(await serviceHash(ns, "api-preview"), waiting.canaryHash);
    assert.equal(
      await serviceHash(ns, "api-active"),
      v1.stableHash,
      "active still on v1 before promotion",
    );
    assert.equal(byImage(await versions(ns), "api:2")?.replicas, 2, "preview runs at full size");

    await sendCommand(ns, "promote", "bg-1");
    await untilStatus(
      ns,
      "promoted",
      (s) => s.phase === "Healthy" && s.stableHash === waiting.canaryHash,
    );
    assert.equal(await serviceHash(ns, "api-active"), waiting.canaryHash);
    await eventually(
      "v1 scaled down after scaleDownDelaySeconds",
      () => versions(ns),
      (l) => byImage(l, "api:1")?.replicas === 0,
    );
  });

  test("HTTPRoute canary with a Service parent (Linkerd/GAMMA) and a header route that is gone at the end", async (t) => {
    const ns = await testNamespace(t, "gw");
    await createServices(ns, ["api", "api-stable", "api-canary"]);
    await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "api", namespace: ns },
      spec: {
        parentRefs: [{ group: "", kind: "Service", name: "api", port: 80 }],
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
    const strategy = {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        scaleDownDelaySeconds: 1,
        trafficRouting: { gatewayAPI: { httpRoute: { name: "api" } } },
        steps: [
          {
            setHeaderRoute: {
              name: "beta",
              match: [{ header: "x-user-group", exact: "beta-testers" }],
            },
          },
          { setWeight: 30 },
          { pause: {} },
        ],
      },
    };
    await createRollout(ns, { replicas: 2, strategy }, "api:1");
    await controller(t, ns);
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    type Route = {
      spec: {
        rules: {
          name?: string;
          matches?: unknown[];
          backendRefs: { name: string; weight?: number }[];
        }[];
      };
    };
    const route = async () =>
      (await custom.getNamespacedCustomObject({
        group: "gateway.networking.k8s.io",
        version: "v1",
        plural: "httproutes",
        namespace: ns,
        name: "api",
      })) as Route;

    await setImage(ns, "api:2");
    await untilStatus(ns, "paused at 30%", (s) => s.phase === "Paused" && s.currentStepIndex === 2);
    const during = await route();
    assert.equal(during.spec.rules.length, 2, "the header rule is added on top");
    assert.deepEqual(
      during.spec.rules[0]?.backendRefs.map((b) => b.name),
      ["api-canary"],
    );
    assert.deepEqual(
      during.spec.rules[1]?.backendRefs.map((b) => b.weight),
      [70, 30],
    );

    await sendCommand(ns, "promote", "gw-1");
    await untilStatus(ns, "promoted", (s) => s.phase === "Healthy" && s.canaryHash === undefined);
    const after = await route();
    assert.equal(after.spec.rules.length, 1, "the header rule is gone");
    assert.deepEqual(
      after.spec.rules[0]?.backendRefs.map((b) => b.weight),
      [100, 0],
    );
  });
});
