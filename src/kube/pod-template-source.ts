import { FIELD_MANAGER } from "../api/labels.ts";
import {
  AppsV1Api,
  loadYaml,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
} from "@kubernetes/client-node";
import type { Rollout } from "../api/rollout.ts";
import type { Problem } from "../core/plan.ts";
import { orNotFound } from "./api-errors.ts";
import { OwnWrites } from "./own-writes.ts";
import { namespaceOf } from "./replica-sets.ts";
import type { ClusterCache } from "./watches.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export type PodTemplate = Record<string, unknown>;

export interface DesiredPods {
  template: PodTemplate;
  /** With spec.workloadRef: the referenced Deployment's size and available pods. */
  workload?: { replicas: number; availableReplicas: number };
}

/**
 * A cached Deployment in the shape a GET returns: a list gives typed objects, a watch
 * plain JSON, and the template hash must not depend on which one was read. client-node
 * exports its deserializer only through loadYaml (JSON is YAML).
 */
export function asDeployment(object: KubernetesObject): V1Deployment {
  return loadYaml<V1Deployment>(
    JSON.stringify({ ...object, apiVersion: "apps/v1", kind: "Deployment" }),
  );
}

/** The Deployment's pod template as plain JSON, as it is hashed and written. */
export function plainTemplate(deployment: V1Deployment): PodTemplate | undefined {
  const template = deployment.spec?.template;
  return template === undefined ? undefined : (JSON.parse(JSON.stringify(template)) as PodTemplate);
}

/**
 * Where a Rollout's pods come from: spec.template, or the Deployment spec.workloadRef
 * names, read from the Deployment watch (a GET until it has listed), with our own scaling
 * writes laid over it until the watch catches up.
 */
export class PodTemplateSource {
  private readonly apps: AppsV1Api;
  private readonly written = new OwnWrites<V1Deployment>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly cache?: Pick<ClusterCache, "workload">,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  /** The desired pod template, or undefined (with a problem) when it cannot be had. */
  async desired(rollout: Rollout, problems: Problem[]): Promise<DesiredPods | undefined> {
    if (rollout.spec.template !== undefined) return { template: rollout.spec.template };
    const ref = rollout.spec.workloadRef;
    if (ref === undefined) return undefined;
    const namespace = namespaceOf(rollout);
    const deployment =
      this.cached(namespace, ref.name) ??
      (await orNotFound(this.apps.readNamespacedDeployment({ name: ref.name, namespace })));
    const template = deployment === undefined ? undefined : plainTemplate(deployment);
    if (deployment === undefined || template === undefined) {
      problems.push({
        path: "spec.workloadRef.name",
        message: `Deployment "${ref.name}" was not found in namespace "${namespace}": create it or fix the name`,
      });
      return undefined;
    }
    return {
      template,
      workload: {
        replicas: deployment.spec?.replicas ?? 1,
        availableReplicas: deployment.status?.availableReplicas ?? 0,
      },
    };
  }

  async scaleWorkload(rollout: Rollout, replicas: number): Promise<void> {
    const ref = rollout.spec.workloadRef;
    if (ref === undefined) return;
    const namespace = namespaceOf(rollout);
    const replaced = this.cache?.workload(namespace, ref.name)?.metadata?.resourceVersion;
    const scaled = await this.apps.patchNamespacedDeployment(
      { name: ref.name, namespace, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER },
      MERGE_PATCH,
    );
    // Until the watch shows a newer version, the patch's answer is the truth.
    if (replaced !== undefined) this.written.record(namespace, ref.name, replaced, scaled);
  }

  private cached(namespace: string, name: string): V1Deployment | undefined {
    const fromCache = this.cache?.workload(namespace, name);
    return this.written.read(
      namespace,
      name,
      fromCache === undefined ? undefined : asDeployment(fromCache),
    );
  }
}
