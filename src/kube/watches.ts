import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ROLLOUT_NAME_LABEL } from "../api/labels.ts";
import { GROUP, ROLLOUT_PLURAL, VERSION } from "../api/rollout.ts";
import { SupervisedInformer, type ResourceKind } from "./informer.ts";

/**
 * Which changes wake which Rollout: the Rollouts themselves, the ReplicaSets they own
 * (by label), and the Services and routing objects they name (by name), so drift made by
 * a person or Argo CD is seen at once rather than at the next resync.
 */
const ROLLOUT: ResourceKind = {
  apiVersion: `${GROUP}/${VERSION}`,
  kind: "Rollout",
  plural: ROLLOUT_PLURAL,
};
const REFERENCED: {
  resource: ResourceKind;
  names: (spec: RolloutSpecLike) => (string | undefined)[];
}[] = [
  {
    resource: { apiVersion: "v1", kind: "Service", plural: "services" },
    names: (s) => [
      s.strategy?.canary?.stableService,
      s.strategy?.canary?.canaryService,
      s.strategy?.blueGreen?.activeService,
      s.strategy?.blueGreen?.previewService,
    ],
  },
  {
    resource: {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      plural: "virtualservices",
    },
    names: (s) => routingOf(s).map((r) => r?.istio?.virtualService?.name),
  },
  {
    resource: {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      plural: "destinationrules",
    },
    names: (s) => routingOf(s).map((r) => r?.istio?.destinationRule?.name),
  },
  {
    resource: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      plural: "httproutes",
    },
    names: (s) => routingOf(s).map((r) => r?.gatewayAPI?.httpRoute?.name),
  },
];

/** Read loosely: a Rollout that fails validation still names its objects. */
interface RoutingLike {
  istio?: { virtualService?: { name?: string }; destinationRule?: { name?: string } };
  gatewayAPI?: { httpRoute?: { name?: string } };
}
interface RolloutSpecLike {
  strategy?: {
    canary?: { stableService?: string; canaryService?: string; trafficRouting?: RoutingLike };
    blueGreen?: { activeService?: string; previewService?: string; trafficRouting?: RoutingLike };
  };
}

function routingOf(spec: RolloutSpecLike): (RoutingLike | undefined)[] {
  return [spec.strategy?.canary?.trafficRouting, spec.strategy?.blueGreen?.trafficRouting];
}

export interface WatchOptions {
  kubeConfig: KubeConfig;
  namespace?: string | undefined;
  enqueue: (key: string) => void;
  relistMs?: number | undefined;
  log: Logger;
}

export interface Watches {
  /** Keys of every Rollout known now (for periodic resync). */
  rolloutKeys(): string[];
  stop(): Promise<void>;
}

export function keyOf(object: KubernetesObject, name = object.metadata?.name ?? ""): string {
  return `${object.metadata?.namespace ?? ""}/${name}`;
}

export function startWatches(options: WatchOptions): Watches {
  const { kubeConfig, namespace, enqueue, relistMs, log } = options;
  const common = { kubeConfig, namespace, relistMs, log };
  const rollouts = new SupervisedInformer({
    ...common,
    resource: ROLLOUT,
    onObject: (o) => enqueue(keyOf(o)),
  });
  const replicaSets = new SupervisedInformer({
    ...common,
    resource: { apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets" },
    labelSelector: ROLLOUT_NAME_LABEL,
    onObject: (o) => {
      const owner = o.metadata?.labels?.[ROLLOUT_NAME_LABEL];
      if (owner !== undefined) enqueue(keyOf(o, owner));
    },
  });
  const referenced = REFERENCED.map(
    ({ resource, names }) =>
      new SupervisedInformer({
        ...common,
        resource,
        onObject: (o) => {
          for (const rollout of rollouts.list(o.metadata?.namespace)) {
            const spec = (rollout as { spec?: RolloutSpecLike }).spec ?? {};
            if (names(spec).includes(o.metadata?.name)) enqueue(keyOf(rollout));
          }
        },
      }),
  );
  const all = [rollouts, replicaSets, ...referenced];
  for (const informer of all) informer.start();
  return {
    rolloutKeys: () => rollouts.list().map((o) => keyOf(o)),
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
