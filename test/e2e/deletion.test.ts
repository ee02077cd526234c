import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AppsV1Api } from "@kubernetes/client-node";
import {
  MANAGED_BY_ANNOTATION,
  MANAGED_ROUTES_ANNOTATION,
  ROLLOUT_NAME_LABEL,
} from "../../src/api/labels.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { controller } from "./controller-fixtures.ts";
import {
  annotationsOf,
  createNamedRollout,
  deleteObject,
  custom,
  deleteRollout,
  dest,
  objects,
  patchRollout,
  readVs,
  record,
  rolloutExists,
  selectorOf,
  service,
  template,
  untilStatusOf,
  virtualService,
  vsRef,
  weightsOf,
} from "./broken-input-fixtures.ts";

async function replicaSetCount(ns: string): Promise<number> {
  const list = await kubeConfig()
    .makeApiClient(AppsV1Api)
    .listNamespacedReplicaSet({ namespace: ns, labelSelector: `${ROLLOUT_NAME_LABEL}=api` });
  return list.items.length;
}

async function routedRelease(ns: string): Promise<void> {
  await service(ns, "api-stable", "api");
  await service(ns, "api-canary", "api");
  await virtualService(ns, "api", [dest("api-stable", 100), dest("api-canary", 0)]);
  await createNamedRollout(
    ns,
    "api",
    {
      replicas: 2,
      strategy: {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          trafficRouting: { istio: { virtualService: { name: "api", routes: ["primary"] } } },
          steps: [
            { setWeight: 30 },
            {
              setHeaderRoute: {
                name: "beta",
                match: [{ header: "x-user-group", exact: "beta-testers" }],
              },
            },
            { pause: {} },
          ],
        },
      },
    },
    "api:1",
  );
}

describe("deleting a Rollout puts the mesh back", { timeout: 180_000, concurrency: true }, () => {
  test("deleted mid-release: all traffic to stable and the header route removed before the pods go; the Services select by their own labels again", async (t) => {
    const ns = await testNamespace(t, "del");
    await routedRelease(ns);
    await controller(t, ns);
    await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
    await patchRollout(ns, "api", { spec: { template: template("api", "api:2") } });
    await untilStatusOf(ns, "api", "paused with the header route", (s) => s.phase === "Paused");
    assert.equal(await weightsOf(ns, "api"), "70/30");

    const timeline = record(
      async () => `${await weightsOf(ns, "api")} ${await replicaSetCount(ns)}`,
    );
    await deleteRollout(ns, "api");
    await eventually(
      "the Rollout is gone",
      () => rolloutExists(ns, "api"),
      (exists) => !exists,
    );
    await eventually(
      "its ReplicaSets are garbage-collected",
      () => replicaSetCount(ns),
      (n) => n === 0,
    );
    const seen = await timeline.stop();
    assert.ok(
      seen.every((entry) => entry.startsWith("100/0") || entry.endsWith(" 2")),
      `weights were back on stable before any ReplicaSet went: ${seen.join(" → ")}`,
    );
    const vs = await readVs(ns, "api");
    assert.deepEqual(
      vs.spec.http.map((r) => r.name),
      ["primary"],
      "Aviary's header route is removed",
    );
    assert.equal(await weightsOf(ns, "api"), "100/0");
    assert.equal(vs.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION], undefined);
    for (const name of ["api-stable", "api-canary"]) {
      assert.deepEqual(await selectorOf(ns, name), { app: "api" }, `${name}'s own selector`);
      assert.equal((await annotationsOf(ns, name))[MANAGED_BY_ANNOTATION], undefined);
    }
  });

  test("mesh objects already gone: the finalizer simply lets go", async (t) => {
    const ns = await testNamespace(t, "del");
    await routedRelease(ns);
    await controller(t, ns);
    await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
    await custom().deleteNamespacedCustomObject(vsRef(ns, "api"));
    for (const name of ["api-stable", "api-canary"]) await deleteObject("v1", "Service", ns, name);
    await deleteRollout(ns, "api");
    await eventually(
      "the Rollout is gone",
      () => rolloutExists(ns, "api"),
      (exists) => !exists,
    );
  });

  test("a workloadRef Rollout deleted gives its pods back to the Deployment before it goes", async (t) => {
    const ns = await testNamespace(t, "del");
    await service(ns, "api-stable", "api");
    await service(ns, "api-canary", "api");
    await objects().create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "api", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "api" } },
        template: template("api", "api:1"),
      },
    });
    await objects().create({
      apiVersion: "aviary.dev/v1alpha1",
      kind: "Rollout",
      metadata: { name: "api", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "api" } },
        workloadRef: { name: "api" },
        strategy: {
          canary: { stableService: "api-stable", canaryService: "api-canary", steps: [] },
        },
      },
    });
    await controller(t, ns);
    const apps = kubeConfig().makeApiClient(AppsV1Api);
    await eventually(
      "Aviary took the Deployment's pods over",
      () => apps.readNamespacedDeployment({ name: "api", namespace: ns }),
      (d) => d.spec?.replicas === 0,
    );
    await deleteRollout(ns, "api");
    await eventually(
      "the Rollout is gone",
      () => rolloutExists(ns, "api"),
      (exists) => !exists,
    );
    const deployment = await apps.readNamespacedDeployment({ name: "api", namespace: ns });
    assert.equal(deployment.spec?.replicas, 2, "the Deployment is whole again");
    assert.equal(
      deployment.status?.availableReplicas,
      2,
      "and its pods serve before Aviary let go",
    );
    assert.deepEqual(await selectorOf(ns, "api-stable"), { app: "api" });
  });
});
