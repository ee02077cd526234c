import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AppsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  setHeaderOptions,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { Rollout } from "../../src/api/rollout.ts";
import { apiErrorMessage } from "../harness/api-errors.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { REPO_ROOT } from "../harness/testenv.ts";

const ROLLOUTS = { group: "aviary.dev", version: "v1alpha1", plural: "rollouts" } as const;

/** The namespaced objects in examples/, moved into a test namespace (examples.test.ts dry-runs the Namespaces). */
function exampleObjects(namespace: string): KubernetesObject[] {
  const dir = join(REPO_ROOT, "examples");
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) => loadAllYaml(readFileSync(join(dir, file), "utf8")) as KubernetesObject[])
    .filter((object) => object.kind !== "Namespace")
    .map((object) => {
      if (object.metadata) object.metadata.namespace = namespace;
      return object;
    });
}

describe("test cluster", () => {
  test("a Deployment gets Ready pods on the kwok node", async (t) => {
    const namespace = await testNamespace(t);
    const kc = kubeConfig();
    await KubernetesObjectApi.makeApiClient(kc).create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "example.com/web:1" }] },
        },
      },
    });
    const apps = kc.makeApiClient(AppsV1Api);
    const deployment = await eventually(
      "Deployment web ready replicas",
      () => apps.readNamespacedDeployment({ name: "web", namespace }),
      (d) => d.status?.readyReplicas === 3,
      (d) => d.status,
    );
    assert.equal(deployment.status?.availableReplicas, 3);
  });

  test("the API server rejects a Rollout that breaks the schema, with a message naming the field", async (t) => {
    const namespace = await testNamespace(t);
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    const broken = {
      apiVersion: "aviary.dev/v1alpha1",
      kind: "Rollout",
      metadata: { name: "broken", namespace },
      spec: {
        selector: { matchLabels: { app: "api" } },
        template: { metadata: { labels: { app: "api" } } },
        strategy: {
          canary: {
            stableService: "api-stable",
            canaryService: "api-canary",
            steps: [{ setWeight: 150 }],
          },
        },
      },
    };
    const error = await custom
      .createNamespacedCustomObject({ ...ROLLOUTS, namespace, body: broken })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error !== undefined, "a Rollout with setWeight 150 must be rejected");
    const message = apiErrorMessage(error);
    assert.match(message, /spec\.strategy\.canary\.steps\[0\]\.setWeight/);
    assert.match(message, /less than or equal to 100/);

    const twoStrategies = structuredClone(broken);
    twoStrategies.spec.strategy.canary.steps = [{ setWeight: 10 }];
    Object.assign(twoStrategies.spec.strategy, {
      blueGreen: { activeService: "a", previewService: "b" },
    });
    const both = await custom
      .createNamespacedCustomObject({ ...ROLLOUTS, namespace, body: twoStrategies })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.match(apiErrorMessage(both), /set exactly one strategy/);
  });

  test("the examples are accepted by Aviary's, Istio's and Gateway API's CRDs", async (t) => {
    const namespace = await testNamespace(t);
    const objects = exampleObjects(namespace);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ["Rollout", "VirtualService", "HTTPRoute"])
      assert.ok(kinds.has(kind), `examples/ has no ${kind}`);
    const client = KubernetesObjectApi.makeApiClient(kubeConfig());
    for (const object of objects) {
      await client.create(object).catch((error: unknown) => {
        assert.fail(
          `${object.kind ?? "?"} ${object.metadata?.name ?? "?"} from examples/ was rejected: ${apiErrorMessage(error)}`,
        );
      });
    }
    for (const object of objects) {
      const stored = await client.read({
        ...object,
        metadata: { name: object.metadata?.name ?? "", namespace },
      });
      assert.ok(
        stored.metadata?.uid,
        `${object.kind ?? "?"} ${object.metadata?.name ?? "?"} is stored`,
      );
    }
  });

  test("a stored Rollout's status subresource takes a merge patch", async (t) => {
    const namespace = await testNamespace(t);
    const rollout = exampleObjects(namespace).find((o) => o.kind === "Rollout");
    assert.ok(rollout?.metadata?.name, "examples/ has a Rollout");
    assert.ok(Rollout.safeParse(rollout).success, "the example Rollout passes Aviary's own schema");
    const name = rollout.metadata.name;
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({ ...ROLLOUTS, namespace, body: rollout });
    const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    await custom.patchNamespacedCustomObjectStatus(
      {
        ...ROLLOUTS,
        namespace,
        name,
        body: { status: { phase: "Paused", currentStepIndex: 1, message: "waiting" } },
      },
      mergePatch,
    );
    await custom.patchNamespacedCustomObjectStatus(
      {
        ...ROLLOUTS,
        namespace,
        name,
        body: { status: { command: { name: "promote", id: "c1" } } },
      },
      mergePatch,
    );
    const stored = (await custom.getNamespacedCustomObject({ ...ROLLOUTS, namespace, name })) as {
      spec: unknown;
      status?: Record<string, unknown>;
    };
    assert.deepEqual(stored.status, {
      phase: "Paused",
      currentStepIndex: 1,
      message: "waiting",
      command: { name: "promote", id: "c1" },
    });
    assert.deepEqual(
      stored.spec,
      (rollout as unknown as { spec: unknown }).spec,
      "a status patch leaves spec alone",
    );
  });

  test("Gateway API's CRD rejects an HTTPRoute with a negative weight", async (t) => {
    const namespace = await testNamespace(t);
    const error = await KubernetesObjectApi.makeApiClient(kubeConfig())
      .create({
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: "bad", namespace },
        spec: { rules: [{ backendRefs: [{ name: "svc", port: 80, weight: -1 }] }] },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.match(apiErrorMessage(error), /weight/);
  });
});
