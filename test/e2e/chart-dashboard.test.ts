import { test } from "node:test";
import assert from "node:assert/strict";
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { renderChart } from "../harness/helm.ts";

/**
 * The chart's optional in-cluster dashboard (helm template with helm built from its Go
 * module, then a server-side dry run on the test API server): off by default; when on,
 * read-only unless dashboard.steering, and then it may patch only rollouts/status.
 */
const dashboardObjects = (objects: KubernetesObject[]) =>
  objects.filter((o) => o.metadata?.labels?.["app.kubernetes.io/component"] === "dashboard");

const args = (objects: KubernetesObject[]) =>
  (
    objects.find((o) => o.kind === "Deployment") as
      { spec?: { template: { spec?: { containers: { args?: string[] }[] } } } } | undefined
  )?.spec?.template.spec?.containers[0]?.args ?? [];

const mayPatchStatus = (objects: KubernetesObject[]) =>
  (
    (
      objects.find((o) => o.kind === "ClusterRole") as
        { rules?: { resources?: string[]; verbs: string[] }[] } | undefined
    )?.rules ?? []
  ).some((r) => r.resources?.includes("rollouts/status") === true && r.verbs.includes("patch"));

test("the chart's dashboard: off by default, read-only unless steering is enabled", async (t) => {
  assert.deepEqual(dashboardObjects(await renderChart("x", "aviary", {})), []);

  const readOnly = dashboardObjects(
    await renderChart("x", "aviary", { dashboard: { enabled: true } }),
  );
  assert.deepEqual(readOnly.map((o) => o.kind).sort(), [
    "ClusterRole",
    "ClusterRoleBinding",
    "Deployment",
    "Service",
    "ServiceAccount",
  ]);
  assert.ok(args(readOnly).includes("--read-only"), args(readOnly).join(" "));
  assert.equal(mayPatchStatus(readOnly), false);

  const namespace = await testNamespace(t, "chartdash");
  const steering = dashboardObjects(
    await renderChart("x", namespace, { dashboard: { enabled: true, steering: true, port: 8000 } }),
  );
  assert.equal(args(steering).includes("--read-only"), false);
  assert.ok(args(steering).includes("--port=8000"));
  assert.equal(mayPatchStatus(steering), true);

  // The API server accepts every object (a dry run stores nothing).
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  for (const object of steering)
    await client.patch(object, undefined, "All", "aviary-e2e", true, PatchStrategy.ServerSideApply);
});
