import {
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ReplicaSet,
} from "@kubernetes/client-node";
import type { Rollout } from "../api/rollout.ts";
import {
  FIELD_MANAGER,
  ISTIO_REVISION_LABEL,
  LINKERD_HASH_LABEL,
  POD_TEMPLATE_HASH_LABEL,
  replicaSetName,
  ROLLOUT_NAME_LABEL,
} from "../api/labels.ts";
import type { ObservedReplicaSet } from "../core/plan.ts";
import { containerImages } from "../core/template-images.ts";
import { isConflict, isNotFound, orNotFound } from "./api-errors.ts";
import { OwnWrites } from "./own-writes.ts";
import type { ClusterCache } from "./watches.ts";

const APPLY = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

type PodTemplate = Record<string, unknown> & {
  metadata?: { labels?: Record<string, string> } & Record<string, unknown>;
};

/**
 * The ReplicaSets Aviary owns for one Rollout: one per pod-template hash, named
 * `<rollout>-<hash>`. Read from the watch cache (with our own writes laid over it until
 * the watch delivers them); written on the API server.
 */
export class ReplicaSets {
  private readonly apps: AppsV1Api;
  private readonly writes = new OwnWrites<ReplicaSetLike>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly cache: ClusterCache,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  observe(rollout: Rollout): ObservedReplicaSet[] {
    return this.current(rollout).flatMap((rs) => {
      const hash = rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      const owned =
        rs.metadata?.ownerReferences?.some(
          (o) => o.kind === "Rollout" && o.uid === rollout.metadata.uid,
        ) ?? false;
      if (hash === undefined || !owned || rs.metadata?.deletionTimestamp != null) return [];
      const created = rs.metadata?.creationTimestamp;
      // The replicaset controller says here why it cannot create pods (quota, admission...).
      const failure = rs.status?.conditions?.find(
        (c) => c.type === "ReplicaFailure" && c.status === "True",
      );
      return [
        {
          hash,
          replicas: rs.spec?.replicas ?? 0,
          availableReplicas: rs.status?.availableReplicas ?? 0,
          createdAt: created == null ? undefined : new Date(created).toISOString(),
          ...(failure === undefined
            ? {}
            : {
                failure: `ReplicaSet ${rs.metadata?.name ?? hash} cannot create pods (${failure.reason ?? "ReplicaFailure"}): ${failure.message ?? "no message"}`,
              }),
          images: containerImages(rs.spec?.template),
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
    const existing = this.current(rollout).find((rs) => rs.metadata?.name === name);
    if (existing !== undefined) {
      if ((existing.spec?.replicas ?? 1) === replicas) return;
      const patched = await orNotFound(this.apply(name, namespace, rescaled(existing, replicas)));
      if (patched !== undefined) {
        this.wrote(rollout, name, existing, patched);
        return;
      }
    }
    if (template === undefined) {
      throw new Error(
        `ReplicaSet ${name} is missing and its pod template is no longer in the Rollout's spec; it cannot be recreated`,
      );
    }
    try {
      // A create, not an apply: an apply would also "create" one the cache is only behind on.
      const created = await this.apps.createNamespacedReplicaSet({
        namespace,
        body: replicaSetFor(rollout, hash, replicas, template),
        fieldManager: FIELD_MANAGER,
      });
      this.wrote(rollout, name, undefined, created);
    } catch (error) {
      if (!isConflict(error)) throw error;
      // The cache had not seen it yet: scale what the API server has.
      const fresh = await this.apps.readNamespacedReplicaSet({ name, namespace });
      if ((fresh.spec?.replicas ?? 1) === replicas) return;
      const patched = await this.apply(name, namespace, rescaled(fresh, replicas));
      this.wrote(rollout, name, existing, patched);
    }
  }

  /**
   * Scaling is a forced server-side apply as field manager `aviary` of the fields Aviary
   * set when it made the ReplicaSet (labels, owner, selector, template) with the new
   * replica count: an apply that left them out would give them up. Others' fields (an
   * HPA's, a person's annotations) keep their managers.
   */
  private apply(name: string, namespace: string, body: V1ReplicaSet): Promise<V1ReplicaSet> {
    return this.apps.patchNamespacedReplicaSet(
      { name, namespace, body, fieldManager: FIELD_MANAGER, force: true },
      APPLY,
    );
  }

  async delete(rollout: Rollout, hash: string): Promise<void> {
    const name = replicaSetName(rollout.metadata.name, hash);
    const existing = this.current(rollout).find((rs) => rs.metadata?.name === name);
    try {
      await this.apps.deleteNamespacedReplicaSet({ name, namespace: namespaceOf(rollout) });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.wrote(rollout, name, existing, null);
  }

  /** Forgets what we wrote for a Rollout that is gone. */
  forget(namespace: string, rollout: string): void {
    this.writes.forget(`${namespace}/${rollout}`);
  }

  private current(rollout: Rollout): ReplicaSetLike[] {
    const namespace = namespaceOf(rollout);
    const cached = this.cache.replicaSetsOf(namespace, rollout.metadata.name) as ReplicaSetLike[];
    return this.writes.merge(`${namespace}/${rollout.metadata.name}`, cached);
  }

  private wrote(
    rollout: Rollout,
    name: string,
    replaced: ReplicaSetLike | undefined,
    result: V1ReplicaSet | null,
  ): void {
    this.writes.record(
      `${namespaceOf(rollout)}/${rollout.metadata.name}`,
      name,
      replaced?.metadata?.resourceVersion,
      result,
    );
  }
}

/** The apply that sets `replicas` on a ReplicaSet Aviary made, from its current content. */
function rescaled(rs: ReplicaSetLike, replicas: number): V1ReplicaSet {
  const metadata = rs.metadata ?? {};
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      labels: metadata.labels,
      ownerReferences: metadata.ownerReferences,
    },
    spec: { replicas, selector: rs.spec?.selector, template: rs.spec?.template },
  } as unknown as V1ReplicaSet;
}

/** A ReplicaSet as read from the watch (JSON) or returned by a write (typed): dates may be either. */
interface ReplicaSetLike {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; uid: string }[];
    deletionTimestamp?: string | Date | null;
    creationTimestamp?: string | Date | null;
  };
  spec?: { replicas?: number; selector?: unknown; template?: unknown };
  status?: {
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
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
