import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { INSTANCE_ID_LABEL } from "../../src/api/labels.ts";
import type { RolloutStatus } from "../../src/api/rollout.ts";
import { controllerProcesses } from "../harness/controller-process.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { podTemplate } from "./controller-fixtures.ts";

/**
 * Several controller instances in one namespace, each started with its own --instance-id
 * (and one without), as `aviary controller` runs in a cluster with leader election on:
 * each instance leads its own Lease, and each Rollout is reconciled by its instance only.
 */

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const ref = (namespace: string, name: string) => ({
  group: "aviary.dev",
  version: "v1alpha1",
  plural: "rollouts",
  namespace,
  name,
});

async function createRollout(namespace: string, name: string, instance?: string): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  for (const role of ["stable", "canary"])
    await client.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `${name}-${role}`, namespace },
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
    });
  await client.create({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: {
      name,
      namespace,
      ...(instance === undefined ? {} : { labels: { [INSTANCE_ID_LABEL]: instance } }),
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { ...podTemplate("api:1"), metadata: { labels: { app: name } } },
      strategy: {
        canary: {
          stableService: `${name}-stable`,
          canaryService: `${name}-canary`,
          scaleDownDelaySeconds: 1,
          steps: [{ setWeight: 50 }, { pause: { duration: "1s" } }],
        },
      },
    },
  });
}

async function statusOf(namespace: string, name: string): Promise<RolloutStatus | undefined> {
  const object = (await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject(ref(namespace, name))) as { status?: RolloutStatus };
  return object.status;
}

async function release(namespace: string, name: string): Promise<void> {
  const v1 = await eventually(
    `${name} v1 Healthy`,
    () => statusOf(namespace, name),
    (s) => s?.phase === "Healthy",
  );
  const template = { ...podTemplate("api:2"), metadata: { labels: { app: name } } };
  await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject({ ...ref(namespace, name), body: { spec: { template } } }, MERGE);
  await eventually(
    `${name} v2 promoted`,
    () => statusOf(namespace, name),
    (s) => s?.phase === "Healthy" && s.stableHash !== v1?.stableHash,
  );
}

/** The Rollouts a process's debug log says it reconciled. */
function reconciled(logs: readonly string[]): Set<string> {
  const keys = new Set<string>();
  for (const line of logs.join("").split("\n")) {
    if (!line.includes('"reconciled"')) continue;
    const entry = JSON.parse(line) as { msg?: string; rollout?: string };
    if (entry.msg === "reconciled" && entry.rollout !== undefined) keys.add(entry.rollout);
  }
  return keys;
}

async function leaseHolder(namespace: string, name: string): Promise<string | undefined> {
  const lease = (await kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    namespace,
    name,
  })) as { spec?: { holderIdentity?: string } };
  return lease.spec?.holderIdentity;
}

describe("controller instances", { timeout: 180_000 }, () => {
  test("two instance ids and one without: each releases only its own Rollouts, each leading its own Lease", async (t) => {
    const ns = await testNamespace(t, "instances");
    await createRollout(ns, "team-a-api", "team-a");
    await createRollout(ns, "team-b-api", "team-b");
    await createRollout(ns, "shared-api");
    const a = controllerProcesses(t);
    const b = controllerProcesses(t);
    a.start(ns, { leaderElect: true, args: ["--instance-id", "team-a"], env: { POD_NAME: "a-0" } });
    b.start(ns, { leaderElect: true, args: ["--instance-id", "team-b"], env: { POD_NAME: "b-0" } });

    await Promise.all([release(ns, "team-a-api"), release(ns, "team-b-api")]);
    assert.equal(await leaseHolder(ns, "aviary-controller-team-a"), "a-0");
    assert.equal(await leaseHolder(ns, "aviary-controller-team-b"), "b-0");
    assert.deepEqual([...reconciled(a.logs)], [`${ns}/team-a-api`]);
    assert.deepEqual([...reconciled(b.logs)], [`${ns}/team-b-api`]);
    assert.equal(
      await statusOf(ns, "shared-api"),
      undefined,
      "no instance id's Rollout is neither's",
    );

    const rest = controllerProcesses(t);
    rest.start(ns, { leaderElect: true, env: { POD_NAME: "rest-0" } });
    await release(ns, "shared-api");
    assert.equal(await leaseHolder(ns, "aviary-controller"), "rest-0");
    assert.deepEqual([...reconciled(rest.logs)], [`${ns}/shared-api`]);
    assert.deepEqual([...reconciled(a.logs)], [`${ns}/team-a-api`]);
    assert.deepEqual([...reconciled(b.logs)], [`${ns}/team-b-api`]);
  });
});
