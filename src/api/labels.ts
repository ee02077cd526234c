/**
 * Labels Aviary puts on the pods and ReplicaSets it creates, and that metric queries
 * and the e2e mesh simulator rely on. One place, so the controller, the built-in
 * queries and the simulator can never disagree.
 */

/** Selector label: Services and DestinationRule subsets select versions by it. */
export const POD_TEMPLATE_HASH_LABEL = "aviary.dev/pod-template-hash";

/** Also set to the same hash: Linkerd exports it as `pod_template_hash` on its metrics. */
export const LINKERD_HASH_LABEL = "pod-template-hash";

/**
 * Also set to the same hash: Istio exports it as `destination_canonical_revision`,
 * which separates versions when subset-level routing puts both behind one Service.
 */
export const ISTIO_REVISION_LABEL = "service.istio.io/canonical-revision";

/** The Rollout that owns a ReplicaSet. */
export const ROLLOUT_NAME_LABEL = "aviary.dev/rollout";

/** A ReplicaSet's name: `<rollout>-<hash>`. */
export function replicaSetName(rolloutName: string, hash: string): string {
  return `${rolloutName}-${hash}`;
}
