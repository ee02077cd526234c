import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PatchStrategy } from "@kubernetes/client-node";
import { testNamespace } from "../harness/env.ts";
import { controller } from "./controller-fixtures.ts";
import {
  createNamedRollout,
  custom,
  deleteObject,
  dest,
  eventsOf,
  objects,
  patchRollout,
  service,
  statusOf,
  template,
  untilStatusOf,
  virtualService,
  weightsOf,
} from "./broken-input-fixtures.ts";

async function canary(ns: string, extra: Record<string, unknown> = {}): Promise<void> {
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
          steps: [{ setWeight: 20 }, { pause: {} }],
        },
      },
      ...extra,
    },
    "api:1",
  );
}

/** A ValidatingAdmissionPolicy (CEL, in the API server) that refuses what `expression` rejects, in one namespace. */
async function admissionPolicy(
  ns: string,
  resource: { group: string; resource: string; operations: string[] },
  expression: string,
  message: string,
): Promise<() => Promise<void>> {
  const name = `refuse-${ns}-${resource.resource}`;
  await objects().create({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [resource.group],
            apiVersions: ["*"],
            operations: resource.operations,
            resources: [resource.resource],
          },
        ],
      },
      validations: [{ expression, message }],
    },
  });
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name },
    spec: {
      policyName: name,
      validationActions: ["Deny"],
      matchResources: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
      },
    },
  };
  await objects().create(binding);
  const remove = async () => {
    const group = "admissionregistration.k8s.io/v1";
    await deleteObject(group, "ValidatingAdmissionPolicyBinding", undefined, name);
    await deleteObject(group, "ValidatingAdmissionPolicy", undefined, name);
  };
  return remove;
}

/** Until the policy is in force: the API server applies it a moment after it is created. */
async function untilRefused(write: (attempt: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await write(i);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail("the admission policy never took effect");
}

describe("every failed write reaches status", { timeout: 180_000, concurrency: true }, () => {
  test("a template the API server refuses mid-release: Degraded with the API server's reason, stable untouched; fixed, the release goes on", async (t) => {
    const ns = await testNamespace(t, "wr");
    await canary(ns);
    await controller(t, ns);
    await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
    const refused = template("api", "api:2");
    (refused.spec as { containers: Record<string, unknown>[] }).containers[0] = {
      name: "app",
      image: "api:2",
      ports: [{ containerPort: 99_999_999 }],
    };
    await patchRollout(ns, "api", { spec: { template: refused } });
    const failed = await untilStatusOf(
      ns,
      "api",
      "the refusal is in status",
      (s) =>
        s.phase === "Degraded" && s.conditions?.some((c) => c.type === "ReconcileError") === true,
    );
    assert.match(
      failed.message ?? "",
      /could not scale the canary ReplicaSet \([a-z0-9]+\) to 1: the API server answered 422 Invalid: .*containerPort.*99999999/,
    );
    const stored = (await custom().getNamespacedCustomObject({
      group: "aviary.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "rollouts",
      name: "api",
    })) as { metadata: { generation?: number } };
    assert.equal(failed.observedGeneration, stored.metadata.generation);
    assert.ok(
      (await eventsOf(ns, "api")).some((e) => e.startsWith("WriteFailed: could not scale")),
    );
    assert.equal(await weightsOf(ns, "api"), "100/0", "stable keeps all traffic");

    await patchRollout(ns, "api", { spec: { template: template("api", "api:3") } });
    const paused = await untilStatusOf(
      ns,
      "api",
      "the fixed release runs",
      (s) => s.phase === "Paused",
    );
    assert.equal(
      paused.conditions?.some((c) => c.type === "ReconcileError"),
      false,
    );
    assert.equal(await weightsOf(ns, "api"), "80/20");
  });

  test("an admission policy that refuses the weight change: status says so instead of 'waiting'", async (t) => {
    const ns = await testNamespace(t, "wr");
    await canary(ns);
    await controller(t, ns);
    await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
    const lift = await admissionPolicy(
      ns,
      { group: "networking.istio.io", resource: "virtualservices", operations: ["UPDATE"] },
      "object.spec == oldObject.spec",
      "traffic is frozen for the change freeze",
    );
    t.after(lift);
    await untilRefused((attempt) =>
      objects().patch(
        {
          apiVersion: "networking.istio.io/v1",
          kind: "VirtualService",
          metadata: { name: "api", namespace: ns },
          // A new value each time: an unchanged spec is what the policy allows.
          spec: { exportTo: [`probe-${attempt}`] },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      ),
    );
    await patchRollout(ns, "api", { spec: { template: template("api", "api:2") } });
    const refused = await untilStatusOf(
      ns,
      "api",
      "the refused weight is in status",
      (s) =>
        s.phase === "Degraded" &&
        s.message?.includes("could not set the canary weight to 20%") === true,
    );
    assert.match(refused.message ?? "", /traffic is frozen for the change freeze/);
    assert.equal(await weightsOf(ns, "api"), "100/0");

    await lift();
    await untilStatusOf(
      ns,
      "api",
      "the release goes on once the policy is lifted",
      (s) => s.phase === "Paused",
    );
    assert.equal(await weightsOf(ns, "api"), "80/20");
  });

  test("a first deploy whose pods are forbidden says why, and is Degraded after progressDeadlineSeconds", async (t) => {
    const ns = await testNamespace(t, "wr");
    const lift = await admissionPolicy(
      ns,
      { group: "", resource: "pods", operations: ["CREATE"] },
      "false",
      "pods need an approved image in this namespace",
    );
    t.after(lift);
    await untilRefused(() =>
      objects().create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { generateName: "probe-", namespace: ns },
        spec: { containers: [{ name: "c", image: "x" }] },
      }),
    );
    await canary(ns, { progressDeadlineSeconds: 5 });
    await controller(t, ns);
    const degraded = await untilStatusOf(
      ns,
      "api",
      "Degraded after the deadline",
      (s) => s.phase === "Degraded",
    );
    assert.match(
      degraded.message ?? "",
      /progress deadline exceeded: .*0\/2 replicas available; ReplicaSet api-[a-z0-9]+ cannot create pods \(FailedCreate\): .*pods need an approved image/,
    );
    assert.equal(
      degraded.conditions?.find((c) => c.type === "Progressing")?.reason,
      "ProgressDeadlineExceeded",
    );
    assert.equal((await statusOf(ns, "api")).stableHash !== undefined, true);
  });
});
