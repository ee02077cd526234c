import {
  AppsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1ReplicaSet,
} from "@kubernetes/client-node";
import type { TestContext } from "node:test";
import { pino } from "pino";
import { POD_TEMPLATE_HASH_LABEL, ROLLOUT_NAME_LABEL } from "../../src/api/labels.ts";
import type { RolloutInput, RolloutStatus } from "../../src/api/rollout.ts";
import {
  startController,
  type ControllerHandle,
  type ControllerOptions,
} from "../../src/kube/controller.ts";
import { kubeConfig } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";

/** Helpers for the controller e2e tests: objects to create, and reads a user would make. */

export const quietLog = pino({ level: process.env.AVIARY_TEST_LOG ?? "silent" });

export async function controller(
  t: TestContext,
  namespace: string,
  extra: Partial<ControllerOptions> = {},
): Promise<ControllerHandle> {
  const handle = await startController({
    kubeConfig: kubeConfig(),
    namespace,
    log: quietLog,
    resyncMs: 5_000,
    ...extra,
  });
  t.after(() => handle.stop());
  return handle;
}

export function podTemplate(image: string): Record<string, unknown> {
  return { metadata: { labels: { app: "api" } }, spec: { containers: [{ name: "api", image }] } };
}

export async function createServices(namespace: string, names: readonly string[]): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  for (const name of names) {
    await client.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace },
      spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
  }
}

export async function createRollout(
  namespace: string,
  spec: Omit<RolloutInput["spec"], "selector" | "template">,
  image: string,
): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "api", namespace },
    spec: { selector: { matchLabels: { app: "api" } }, template: podTemplate(image), ...spec },
  });
}

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const rolloutRef = (namespace: string) => ({
  group: "aviary.dev",
  version: "v1alpha1",
  namespace,
  plural: "rollouts",
  name: "api",
});

export async function setImage(namespace: string, image: string): Promise<void> {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    { ...rolloutRef(namespace), body: { spec: { template: podTemplate(image) } } },
    MERGE,
  );
}

/** What `aviary abort` does: a command merge-patched into the status subresource. */
export async function sendCommand(namespace: string, name: string, id: string): Promise<void> {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  await custom.patchNamespacedCustomObjectStatus(
    { ...rolloutRef(namespace), body: { status: { command: { name, id } } } },
    MERGE,
  );
}

export async function status(namespace: string): Promise<RolloutStatus> {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  const object = (await custom.getNamespacedCustomObject(rolloutRef(namespace))) as {
    status?: RolloutStatus;
  };
  return object.status ?? {};
}

export interface VersionView {
  hash: string;
  replicas: number;
  image: string | undefined;
}

/** The Rollout's ReplicaSets, by image. */
export async function versions(namespace: string): Promise<VersionView[]> {
  const apps = kubeConfig().makeApiClient(AppsV1Api);
  const list = await apps.listNamespacedReplicaSet({
    namespace,
    labelSelector: `${ROLLOUT_NAME_LABEL}=api`,
  });
  return list.items.map((rs: V1ReplicaSet) => ({
    hash: rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] ?? "",
    replicas: rs.spec?.replicas ?? 0,
    image: rs.spec?.template?.spec?.containers[0]?.image,
  }));
}

export async function serviceHash(namespace: string, name: string): Promise<string | undefined> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  const service = (await client.read({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
  })) as { spec?: { selector?: Record<string, string> } };
  return service.spec?.selector?.[POD_TEMPLATE_HASH_LABEL];
}

export function byImage(list: readonly VersionView[], image: string): VersionView | undefined {
  return list.find((v) => v.image === image);
}

/** Waits until the Rollout's status satisfies `ok`; on timeout, says where the release was. */
export function untilStatus(
  namespace: string,
  what: string,
  ok: (status: RolloutStatus) => boolean,
): Promise<RolloutStatus> {
  return eventually(
    what,
    () => status(namespace),
    ok,
    (s) => [s.phase, s.currentStepIndex, s.message],
  );
}

/**
 * Host-level Istio canary: Services api-stable and api-canary, the VirtualService api-vs
 * (route "primary", all traffic on stable), and the Rollout api on `image` routed through it.
 */
export async function createIstioCanary(
  namespace: string,
  canary: {
    steps: unknown[];
    scaleDownDelaySeconds?: number;
    abortScaleDownDelaySeconds?: number;
    analysis?: unknown;
  },
  replicas = 2,
  image = "api:1",
): Promise<void> {
  await createServices(namespace, ["api-stable", "api-canary"]);
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "api-vs", namespace },
    spec: {
      hosts: ["api"],
      http: [
        {
          name: "primary",
          route: [
            { destination: { host: "api-stable" }, weight: 100 },
            { destination: { host: "api-canary" }, weight: 0 },
          ],
        },
      ],
    },
  });
  await createRollout(
    namespace,
    {
      replicas,
      strategy: {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          trafficRouting: { istio: { virtualService: { name: "api-vs", routes: ["primary"] } } },
          ...canary,
        },
      },
    } as Omit<RolloutInput["spec"], "selector" | "template">,
    image,
  );
}

/** The weights of api-vs's first route, [stable, canary]. */
export async function virtualServiceWeights(namespace: string): Promise<number[]> {
  const vs = (await kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: "networking.istio.io",
    version: "v1",
    plural: "virtualservices",
    namespace,
    name: "api-vs",
  })) as { spec: { http: { route: { weight?: number }[] }[] } };
  return vs.spec.http[0]?.route.map((r) => r.weight ?? 0) ?? [];
}
