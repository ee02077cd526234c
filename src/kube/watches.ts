import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ROLLOUT_NAME_LABEL } from "../api/labels.ts";
import { GROUP, ROLLOUT_PLURAL, VERSION } from "../api/rollout.ts";
import { METRIC_TEMPLATE_PLURAL } from "../api/metric-template.ts";
import type { ResourceKind } from "./informer.ts";
import { InformerSet, type WatchScope } from "./informer-set.ts";
import {
  DEPLOYMENT,
  keyOf,
  REFERENCED,
  ReferenceIndex,
  SERVICE,
  type ReferencedKind,
} from "./references.ts";

export { keyOf } from "./references.ts";

/**
 * Which changes wake which Rollout: the Rollouts themselves, the ReplicaSets they own
 * (by label), and the Services and routing objects they name (by name), so drift made by
 * a person or Argo CD is seen at once rather than at the next resync. The Rollout,
 * ReplicaSet and Service informers are also the cache reconciles read from.
 */
const ROLLOUT: ResourceKind = {
  apiVersion: `${GROUP}/${VERSION}`,
  kind: "Rollout",
  plural: ROLLOUT_PLURAL,
};

/** What reconciles read instead of the API server. Objects are shared: never mutate them. */
export interface ClusterCache {
  rollout(namespace: string, name: string): KubernetesObject | undefined;
  /** The ReplicaSets labelled as this Rollout's (ownership is checked by the reader). */
  replicaSetsOf(namespace: string, rollout: string): KubernetesObject[];
  service(namespace: string, name: string): KubernetesObject | undefined;
  /**
   * A VirtualService, DestinationRule or HTTPRoute (by plural) from its watch; undefined
   * when that watch has not listed yet or does not hold it (then read the API server).
   */
  routingObject(plural: string, namespace: string, name: string): KubernetesObject | undefined;
  /**
   * A workloadRef Deployment from its watch (started once a Rollout names one); undefined
   * until that watch has listed or when it does not hold it (then read the API server).
   */
  workload(namespace: string, name: string): KubernetesObject | undefined;
  /** The MetricTemplates of a namespace; undefined until their watch has listed (then list them). */
  metricTemplates(namespace: string): KubernetesObject[] | undefined;
  /** Whether the cached kinds have been listed once (what /readyz reports). */
  synced(): boolean;
  whenSynced(): Promise<void>;
}

export interface WatchOptions {
  kubeConfig: KubeConfig;
  scope: WatchScope;
  /** The label selector of the Rollout watch: this instance's Rollouts only. */
  rolloutSelector?: string | undefined;
  enqueue: (key: string) => void;
  relistMs?: number | undefined;
  log: Logger;
}

export interface Watches {
  cache: ClusterCache;
  /** Keys of every Rollout known now (for the periodic full resync). */
  rolloutKeys(): string[];
  stop(): Promise<void>;
}

export function startWatches(options: WatchOptions): Watches {
  const { kubeConfig, scope, enqueue, relistMs, log } = options;
  const common = { kubeConfig, relistMs, log };
  const references = new ReferenceIndex();
  // On-demand kinds start watching when the first Rollout names one, and then stay.
  const waiting = new Set<ReferencedKind>(REFERENCED.filter((r) => r.onDemand === true));
  const startWhenUsed = (): void => {
    for (const kind of waiting) {
      if (!references.uses(kind.resource)) continue;
      waiting.delete(kind);
      referenced[REFERENCED.indexOf(kind)]?.start();
    }
  };
  const rollouts = new InformerSet(scope, {
    ...common,
    resource: ROLLOUT,
    labelSelector: options.rolloutSelector,
    onObject: (o, deleted) => {
      references.update(o, deleted);
      if (waiting.size > 0) startWhenUsed();
      enqueue(keyOf(o));
    },
  });
  const ownerOf = (o: KubernetesObject): string | undefined => {
    const owner = o.metadata?.labels?.[ROLLOUT_NAME_LABEL];
    return owner === undefined ? undefined : keyOf(o, owner);
  };
  const replicaSets = new InformerSet(scope, {
    ...common,
    resource: { apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets" },
    labelSelector: ROLLOUT_NAME_LABEL,
    indexBy: ownerOf,
    onObject: (o) => {
      const owner = ownerOf(o);
      if (owner !== undefined) enqueue(owner);
    },
  });
  const referenced = REFERENCED.map(
    ({ resource }) =>
      new InformerSet(scope, {
        ...common,
        resource,
        onObject: (o) => {
          for (const key of references.rolloutsNaming(resource, o)) enqueue(key);
        },
      }),
  );
  // Few and small, and read by every analysis of a Rollout that uses one: worth a watch.
  const metricTemplates = new InformerSet(scope, {
    ...common,
    resource: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "MetricTemplate",
      plural: METRIC_TEMPLATE_PLURAL,
    },
    onObject: () => undefined,
  });
  const services = referenced[REFERENCED.findIndex((r) => r.resource === SERVICE)];
  if (services === undefined) throw new Error("Services must be among the watched kinds");
  const deployments = referenced[REFERENCED.findIndex((r) => r.resource === DEPLOYMENT)];
  const cached = [rollouts, replicaSets, services];
  const all = [rollouts, replicaSets, metricTemplates, ...referenced];
  for (const informer of [rollouts, replicaSets, metricTemplates]) informer.start();
  REFERENCED.forEach((kind, i) => {
    if (kind.onDemand !== true) referenced[i]?.start();
  });
  return {
    cache: {
      rollout: (ns, name) => rollouts.get(ns, name),
      replicaSetsOf: (ns, rollout) => replicaSets.byIndex(`${ns}/${rollout}`),
      service: (ns, name) => services.get(ns, name),
      workload: (ns, name) =>
        deployments?.synced === true ? deployments.get(ns, name) : undefined,
      metricTemplates: (ns) =>
        metricTemplates.synced
          ? metricTemplates.list().filter((o) => o.metadata?.namespace === ns)
          : undefined,
      routingObject: (plural, ns, name) => {
        const index = REFERENCED.findIndex((r) => r.resource.plural === plural);
        const informer = referenced[index];
        return informer?.synced === true ? informer.get(ns, name) : undefined;
      },
      synced: () => cached.every((i) => i.synced),
      whenSynced: async () => {
        await Promise.all(cached.map((i) => i.whenSynced()));
      },
    },
    rolloutKeys: () => rollouts.list().map((o) => keyOf(o)),
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
