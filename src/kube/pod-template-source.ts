import { FIELD_MANAGER } from "../api/labels.ts";
import {
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { Rollout } from "../api/rollout.ts";
import type { Problem } from "../core/plan.ts";
import { orNotFound } from "./api-errors.ts";
import { namespaceOf } from "./replica-sets.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export type PodTemplate = Record<string, unknown>;

export interface DesiredPods {
  template: PodTemplate;
  /** With spec.workloadRef: the referenced Deployment's size and available pods. */
  workload?: { replicas: number; availableReplicas: number };
}

/** Where a Rollout's pods come from: spec.template, or the Deployment spec.workloadRef names. */
export class PodTemplateSource {
  private readonly apps: AppsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  /** The desired pod template, or undefined (with a problem) when it cannot be had. */
  async desired(rollout: Rollout, problems: Problem[]): Promise<DesiredPods | undefined> {
    if (rollout.spec.template !== undefined) return { template: rollout.spec.template };
    const ref = rollout.spec.workloadRef;
    if (ref === undefined) return undefined;
    const namespace = namespaceOf(rollout);
    const deployment = await orNotFound(
      this.apps.readNamespacedDeployment({ name: ref.name, namespace }),
    );
    if (deployment?.spec?.template === undefined) {
      problems.push({
        path: "spec.workloadRef.name",
        message: `Deployment "${ref.name}" was not found in namespace "${namespace}": create it or fix the name`,
      });
      return undefined;
    }
    return {
      template: JSON.parse(JSON.stringify(deployment.spec.template)) as PodTemplate,
      workload: {
        replicas: deployment.spec.replicas ?? 1,
        availableReplicas: deployment.status?.availableReplicas ?? 0,
      },
    };
  }

  async scaleWorkload(rollout: Rollout, replicas: number): Promise<void> {
    const ref = rollout.spec.workloadRef;
    if (ref === undefined) return;
    await this.apps.patchNamespacedDeployment(
      {
        name: ref.name,
        namespace: namespaceOf(rollout),
        body: { spec: { replicas } },
        fieldManager: FIELD_MANAGER,
      },
      MERGE_PATCH,
    );
  }
}
