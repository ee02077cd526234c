import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { ROLLOUT_NAME_LABEL } from "../../api/labels.ts";
import { GROUP, ROLLOUT_PLURAL, VERSION } from "../../api/rollout.ts";
import { SupervisedInformer } from "../../kube/informer.ts";

/**
 * Follows one Rollout, its ReplicaSets and its Events through watch events (list, then
 * watch; restarted after errors by SupervisedInformer), and calls `onChange` with all
 * three whenever any of them changes. No polling.
 */
export interface Watched {
  rollout: KubernetesObject | undefined;
  replicaSets: KubernetesObject[];
  events: KubernetesObject[];
}

export interface RolloutWatch {
  stop(): Promise<void>;
  /** Resolves once every followed kind has listed what exists. */
  synced: Promise<void>;
}

export function watchRollout(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  onChange: (watched: Watched) => void,
  /** What to follow besides the Rollout; a user who may not list one leaves it out (it would never sync). */
  include: { replicaSets: boolean; events: boolean } = { replicaSets: true, events: true },
): RolloutWatch {
  const log = pino({ level: "silent" });
  const emit = (): void => {
    onChange({
      rollout: rollouts.get(namespace, name),
      replicaSets: replicaSets.list(namespace),
      events: events.list(namespace),
    });
  };
  const rollouts = new SupervisedInformer({
    kubeConfig,
    resource: { apiVersion: `${GROUP}/${VERSION}`, kind: "Rollout", plural: ROLLOUT_PLURAL },
    namespace,
    fieldSelector: `metadata.name=${name}`,
    onObject: emit,
    log,
  });
  const replicaSets = new SupervisedInformer({
    kubeConfig,
    resource: { apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets" },
    namespace,
    labelSelector: `${ROLLOUT_NAME_LABEL}=${name}`,
    onObject: emit,
    log,
  });
  const events = new SupervisedInformer({
    kubeConfig,
    resource: { apiVersion: "v1", kind: "Event", plural: "events" },
    namespace,
    fieldSelector: `involvedObject.kind=Rollout,involvedObject.name=${name}`,
    onObject: emit,
    log,
  });
  const all = [
    rollouts,
    ...(include.replicaSets ? [replicaSets] : []),
    ...(include.events ? [events] : []),
  ];
  for (const informer of all) informer.start();
  return {
    synced: Promise.all(all.map((i) => i.whenSynced())).then(emit),
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
