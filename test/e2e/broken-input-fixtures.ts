import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  V1ObjectMeta,
} from "@kubernetes/client-node";
import type { RolloutInput, RolloutStatus } from "../../src/api/rollout.ts";
import { kubeConfig } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";

/**
 * Helpers for the broken-input e2e tests, where several Rollouts (a broken one and a
 * healthy neighbour) share a namespace: everything takes the Rollout's name, and each
 * Rollout's pods carry `app: <name>`.
 */

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

const rolloutRef = (namespace: string, name: string) => ({
  group: "aviary.dev",
  version: "v1alpha1",
  namespace,
  plural: "rollouts",
  name,
});
export const vsRef = (namespace: string, name: string) => ({
  group: "networking.istio.io",
  version: "v1",
  namespace,
  plural: "virtualservices",
  name,
});

export const custom = (): CustomObjectsApi => kubeConfig().makeApiClient(CustomObjectsApi);
export const objects = (): KubernetesObjectApi => KubernetesObjectApi.makeApiClient(kubeConfig());

export function template(app: string, image: string): Record<string, unknown> {
  return { metadata: { labels: { app } }, spec: { containers: [{ name: "app", image }] } };
}

export async function service(namespace: string, name: string, app: string): Promise<void> {
  await objects().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  });
}

/** A person's VirtualService with one route, `primary`, between two Services (or subsets). */
export async function virtualService(
  namespace: string,
  name: string,
  route: { destination: Record<string, unknown>; weight: number }[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  await objects().create({
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name, namespace },
    spec: { hosts: [name], http: [{ name: "primary", route, ...extra }] },
  });
}

export const dest = (host: string, weight: number) => ({ destination: { host }, weight });

export interface VirtualServiceBody {
  metadata: { annotations?: Record<string, string> };
  spec: { http: { name?: string; route: { weight?: number }[] }[] };
}

export async function readVs(namespace: string, name: string): Promise<VirtualServiceBody> {
  return (await custom().getNamespacedCustomObject(vsRef(namespace, name))) as VirtualServiceBody;
}

/** The weights of route `primary`, as "90/10". */
export async function weightsOf(namespace: string, name: string): Promise<string> {
  const vs = await readVs(namespace, name);
  const primary = vs.spec.http.find((r) => r.name === "primary");
  return (primary?.route ?? []).map((r) => r.weight ?? 0).join("/");
}

export async function createNamedRollout(
  namespace: string,
  name: string,
  spec: Omit<RolloutInput["spec"], "selector" | "template">,
  image: string,
): Promise<void> {
  await objects().create({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { app: name } }, template: template(name, image), ...spec },
  });
}

export async function statusOf(namespace: string, name: string): Promise<RolloutStatus> {
  const object = (await custom().getNamespacedCustomObject(rolloutRef(namespace, name))) as {
    status?: RolloutStatus;
  };
  return object.status ?? {};
}

export function untilStatusOf(
  namespace: string,
  name: string,
  what: string,
  ok: (status: RolloutStatus) => boolean,
  timeoutMs = 45_000,
): Promise<RolloutStatus> {
  return eventually(
    what,
    () => statusOf(namespace, name),
    ok,
    (s) => [s.phase, s.currentStepIndex, s.message],
    timeoutMs,
  );
}

export async function patchRollout(
  namespace: string,
  name: string,
  body: Record<string, unknown>,
): Promise<void> {
  await custom().patchNamespacedCustomObject({ ...rolloutRef(namespace, name), body }, MERGE);
}

export async function jsonPatchRollout(
  namespace: string,
  name: string,
  body: unknown[],
): Promise<void> {
  await custom().patchNamespacedCustomObject({ ...rolloutRef(namespace, name), body }, JSON_PATCH);
}

export async function setImageOf(namespace: string, name: string, image: string): Promise<void> {
  await patchRollout(namespace, name, { spec: { template: template(name, image) } });
}

/** What `aviary <command>` does: a command merge-patched into the status subresource. */
export async function command(
  namespace: string,
  name: string,
  commandName: string,
  id: string,
): Promise<void> {
  await custom().patchNamespacedCustomObjectStatus(
    { ...rolloutRef(namespace, name), body: { status: { command: { name: commandName, id } } } },
    MERGE,
  );
}

/** Deletes any object; a missing one is fine. */
export async function deleteObject(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<void> {
  const metadata = Object.assign(new V1ObjectMeta(), { name, namespace });
  await objects()
    .delete({ apiVersion, kind, metadata })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
}

export async function annotationsOf(
  namespace: string,
  service: string,
): Promise<Record<string, string>> {
  const svc = await kubeConfig()
    .makeApiClient(CoreV1Api)
    .readNamespacedService({ name: service, namespace });
  return svc.metadata?.annotations ?? {};
}

export async function deleteRollout(namespace: string, name: string): Promise<void> {
  await custom().deleteNamespacedCustomObject(rolloutRef(namespace, name));
}

export async function rolloutExists(namespace: string, name: string): Promise<boolean> {
  try {
    await custom().getNamespacedCustomObject(rolloutRef(namespace, name));
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  }
}

export async function selectorOf(namespace: string, name: string): Promise<Record<string, string>> {
  const svc = await kubeConfig()
    .makeApiClient(CoreV1Api)
    .readNamespacedService({ name, namespace });
  return svc.spec?.selector ?? {};
}

export async function eventsOf(namespace: string, name: string): Promise<string[]> {
  const list = await kubeConfig()
    .makeApiClient(CoreV1Api)
    .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => `${e.reason ?? ""}: ${e.message ?? ""}`);
}

/** Every distinct value `read` gives, in order, until stopped: a timeline a user would see. */
export function record(read: () => Promise<string>): { stop: () => Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const value = await read().catch(() => undefined);
      if (value !== undefined && seen.at(-1) !== value) seen.push(value);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}
