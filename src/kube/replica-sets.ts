import {
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ReplicaSet,
} from "@kubernetes/client-node";
import type { Rollout } from "../api/rollout.ts";
import {
  ISTIO_REVISION_LABEL,
  LINKERD_HASH_LABEL,
  POD_TEMPLATE_HASH_LABEL,
  replicaSetName,
  ROLLOUT_NAME_LABEL,
} from "../api/labels.ts";
import type { ObservedReplicaSet } from "../core/plan.ts";
import { isNotFound, orNotFound } from "./api-errors.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

type PodTemplate = Record<string, unknown> & {
  metadata?: { labels?: Record<string, string> } & Record<string, unknown>;
};

/** The ReplicaSets Aviary owns for one Rollout: one per pod-template hash, named `<rollout>-<hash>`. */
export class ReplicaSets {
  private readonly apps: AppsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  async observe(rollout: Rollout): Promise<ObservedReplicaSet[]> {
    const namespace = namespaceOf(rollout);
    const list = await this.apps.listNamespacedReplicaSet({
      namespace,
      labelSelector: `${ROLLOUT_NAME_LABEL}=${rollout.metadata.name}`,
    });
    return list.items.flatMap((rs) => {
      const hash = rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      const owned =
        rs.metadata?.ownerReferences?.some(
          (o) => o.kind === "Rollout" && o.uid === rollout.metadata.uid,
        ) ?? false;
      if (hash === undefined || !owned || rs.metadata?.deletionTimestamp !== undefined) return [];
      return [
        {
          hash,
          replicas: rs.spec?.replicas ?? 0,
          availableReplicas: rs.status?.availableReplicas ?? 0,
          createdAt: rs.metadata?.creationTimestamp?.toISOString(),
        },
      ];
    });
  }

  /**
   * Creates the ReplicaSet for `hash` from `template` when it does not exist, else
   * scales it. `template` is undefined when the spec moved on and that version's template
   * is gone: an existing ReplicaSet can still be scaled, a missing one cannot be made.
   */
  async scale(
    rollout: Rollout,
    hash: string,
    replicas: number,
    template: PodTemplate | undefined,
  ): Promise<void> {
    const namespace = namespaceOf(rollout);
    const name = replicaSetName(rollout.metadata.name, hash);
    const existing = await orNotFound(this.apps.readNamespacedReplicaSet({ name, namespace }));
    if (existing !== undefined) {
      if ((existing.spec?.replicas ?? 1) === replicas) return;
      await this.apps.patchNamespacedReplicaSet(
        { name, namespace, body: { spec: { replicas } } },
        MERGE_PATCH,
      );
      return;
    }
    if (template === undefined) {
      throw new Error(
        `ReplicaSet ${name} is missing and its pod template is no longer in the Rollout's spec; it cannot be recreated`,
      );
    }
    await this.apps.createNamespacedReplicaSet({
      namespace,
      body: replicaSetFor(rollout, hash, replicas, template),
    });
  }

  async delete(rollout: Rollout, hash: string): Promise<void> {
    const name = replicaSetName(rollout.metadata.name, hash);
    try {
      await this.apps.deleteNamespacedReplicaSet({ name, namespace: namespaceOf(rollout) });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/** The ReplicaSet object: the pod template with the hash labels, selected by them, owned by the Rollout. */
export function replicaSetFor(
  rollout: Rollout,
  hash: string,
  replicas: number,
  template: PodTemplate,
): V1ReplicaSet {
  const hashLabels = {
    [POD_TEMPLATE_HASH_LABEL]: hash,
    [LINKERD_HASH_LABEL]: hash,
    [ISTIO_REVISION_LABEL]: hash,
  };
  const podLabels = { ...(template.metadata?.labels ?? {}), ...hashLabels };
  const selector = rollout.spec.selector;
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: replicaSetName(rollout.metadata.name, hash),
      namespace: namespaceOf(rollout),
      labels: { ...podLabels, [ROLLOUT_NAME_LABEL]: rollout.metadata.name },
      ownerReferences: [
        {
          apiVersion: rollout.apiVersion,
          kind: rollout.kind,
          name: rollout.metadata.name,
          uid: rollout.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas,
      selector: {
        ...selector,
        matchLabels: { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash },
      },
      template: { ...template, metadata: { ...(template.metadata ?? {}), labels: podLabels } },
    },
  } as unknown as V1ReplicaSet;
}

export function namespaceOf(rollout: Rollout): string {
  return rollout.metadata.namespace ?? "default";
}
