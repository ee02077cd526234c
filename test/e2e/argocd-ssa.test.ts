import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { FIELD_MANAGER, POD_TEMPLATE_HASH_LABEL } from "../../src/api/labels.ts";
import { normalizedPair } from "../harness/argocd-diff.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import {
  controller,
  createRollout,
  sendCommand,
  serviceHash,
  setImage,
  untilStatus,
  virtualServiceWeights,
} from "./controller-fixtures.ts";

/**
 * Argo CD with server-side apply (`ServerSideApply=true`, manager `argocd-controller`) and
 * `managedFieldsManagers: [aviary]`, as docs/argocd.md configures it: the fields Aviary
 * owns are not drift, and a sync mid-release re-applies the Git objects without them.
 */

type Json = Record<string, unknown>;
const ARGOCD = "argocd-controller";
const APPLY = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
const VS = { group: "networking.istio.io", version: "v1", plural: "virtualservices" };

/** The objects in Git: two Services and the VirtualService, all traffic on stable. */
function gitVirtualService(namespace: string, labels: Record<string, string> = {}): Json {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: {
      name: "api-vs",
      namespace,
      labels: { "app.kubernetes.io/part-of": "shop", ...labels },
    },
    spec: {
      hosts: ["api"],
      http: [
        {
          name: "primary",
          timeout: "3s",
          route: [
            { destination: { host: "api-stable" }, weight: 100 },
            { destination: { host: "api-canary" }, weight: 0 },
          ],
        },
      ],
    },
  };
}

function gitService(namespace: string, name: string): Json {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] },
  };
}

/** An Argo CD sync of one object: a forced server-side apply as argocd-controller. */
async function argoApply(object: Json): Promise<void> {
  const metadata = object.metadata as { name: string; namespace: string };
  const options = { ...metadata, body: object, fieldManager: ARGOCD, force: true };
  if (object.kind === "Service")
    await kubeConfig().makeApiClient(CoreV1Api).patchNamespacedService(options, APPLY);
  else
    await kubeConfig()
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject({ ...VS, ...options }, APPLY);
}

async function live(object: Json): Promise<Json> {
  const metadata = object.metadata as { name: string; namespace: string };
  if (object.kind === "Service")
    return (await kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedService(metadata)) as unknown as Json;
  return (await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ ...VS, ...metadata })) as Json;
}

/**
 * Argo CD's diff with managedFieldsManagers, over what Git sets: labels, and the spec (a
 * Service's selector: the API server defaults the rest of its spec).
 */
async function drift(git: Json): Promise<{ live: Json; git: Json }> {
  const pair = normalizedPair(await live(git), git, [FIELD_MANAGER]);
  const view = (o: Json): Json => {
    const spec = o.spec as Json;
    return {
      labels: (o.metadata as Json).labels ?? {},
      spec: o.kind === "Service" ? { selector: spec.selector } : spec,
    };
  };
  return { live: view(pair.live), git: view(pair.git) };
}

describe("Argo CD server-side apply beside Aviary", { timeout: 180_000 }, () => {
  test("a sync of the Git VirtualService and Services mid-release keeps Aviary's weights and selectors, lands Git's change, and the release goes on", async (t) => {
    const ns = await testNamespace(t, "argossa");
    const git = [gitService(ns, "api-stable"), gitService(ns, "api-canary"), gitVirtualService(ns)];
    for (const object of git) await argoApply(object);
    await createRollout(
      ns,
      {
        replicas: 2,
        strategy: {
          canary: {
            stableService: "api-stable",
            canaryService: "api-canary",
            scaleDownDelaySeconds: 1,
            trafficRouting: { istio: { virtualService: { name: "api-vs", routes: ["primary"] } } },
            steps: [{ setWeight: 30 }, { pause: {} }],
          },
        },
      },
      "api:1",
    );
    await controller(t, ns, { leaderElection: false });
    const v1 = await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "api:2");
    const paused = await untilStatus(
      ns,
      "paused at 30%",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    assert.deepEqual(await virtualServiceWeights(ns), [70, 30]);

    // Argo CD sees no drift: what differs from Git is only Aviary's.
    for (const object of git) {
      const { live: seen, git: wanted } = await drift(object);
      assert.deepEqual(seen, wanted, `${String(object.kind)} is in sync for Argo CD`);
    }
    const rawVs = (await live(git[2] as Json)).spec as Json;
    assert.notDeepEqual(
      rawVs.http,
      (git[2] as { spec: Json }).spec.http,
      "without the ignore, the weights would be drift",
    );

    // A commit adds a label; the sync re-applies every Git object without Aviary's fields.
    const changed = gitVirtualService(ns, { team: "payments" });
    for (const object of [git[0], git[1], changed] as Json[]) {
      const { git: normalized } = normalizedPair(await live(object), object, [FIELD_MANAGER]);
      const { managedFields: _m, ...metadata } = normalized.metadata as Json;
      await argoApply({ ...normalized, metadata });
    }
    assert.deepEqual(await virtualServiceWeights(ns), [70, 30], "the weights stay Aviary's");
    assert.equal(await serviceHash(ns, "api-canary"), paused.canaryHash);
    assert.equal(await serviceHash(ns, "api-stable"), v1.stableHash);
    const vs = await live(changed);
    assert.equal(((vs.metadata as Json).labels as Json).team, "payments", "Git's change landed");
    assert.equal(
      ((vs.spec as { http: Json[] }).http[0] as Json).timeout,
      "3s",
      "the person's route settings are kept",
    );

    await sendCommand(ns, "promote", "argo-ssa-1");
    const v2 = await untilStatus(
      ns,
      "promoted",
      (s) => s.phase === "Healthy" && s.stableHash === paused.canaryHash,
    );
    assert.deepEqual(await virtualServiceWeights(ns), [100, 0]);
    assert.equal(await serviceHash(ns, "api-stable"), v2.stableHash);
    const after = await live(changed);
    assert.equal(
      ((after.metadata as Json).labels as Json).team,
      "payments",
      "Aviary left Git's label",
    );
    const services = await kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedService({ name: "api-stable", namespace: ns });
    assert.equal(
      services.spec?.selector?.app,
      "api",
      JSON.stringify([services.spec?.selector, services.metadata?.managedFields]),
    );
    assert.equal(services.spec?.selector?.[POD_TEMPLATE_HASH_LABEL], v2.stableHash);
    const owners =
      (after.metadata as { managedFields?: { manager?: string }[] }).managedFields?.map(
        (m) => m.manager,
      ) ?? [];
    assert.ok(
      owners.includes(FIELD_MANAGER) && owners.includes(ARGOCD),
      `managers: ${owners.join(", ")}`,
    );
  });
});
