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

/** Aviary's finalizer: a Rollout being deleted first puts its traffic back (weights, selectors, claims). */
export const FINALIZER = "aviary.dev/traffic-cleanup";

/**
 * Claims: which Rollout manages a Service, or which parts (routes, subsets, backend pairs)
 * of a routing object. One owner each; a second Rollout that reaches for them is refused.
 */
export const MANAGED_BY_ANNOTATION = "aviary.dev/managed-by";
export const MANAGED_ROUTES_ANNOTATION = "aviary.dev/managed-routes";
export const MANAGED_SUBSETS_ANNOTATION = "aviary.dev/managed-subsets";
export const MANAGED_BACKENDS_ANNOTATION = "aviary.dev/managed-backends";

/** The Rollout that owns a ReplicaSet. */
export const ROLLOUT_NAME_LABEL = "aviary.dev/rollout";

/** A ReplicaSet's name: `<rollout>-<hash>`. */
export function replicaSetName(rolloutName: string, hash: string): string {
  return `${rolloutName}-${hash}`;
}

/**
 * The field manager of every write the controller makes. Server-side apply records which
 * fields it owns under this name, so Argo CD's `managedFieldsManagers: [aviary]` can
 * ignore exactly them.
 */
export const FIELD_MANAGER = "aviary";

/**
 * Which controller instance owns a Rollout. A controller started with `--instance-id X`
 * reconciles only Rollouts labelled `aviary.dev/instance-id=X`; one started without it
 * only Rollouts without the label, so several controllers can split a cluster.
 */
export const INSTANCE_ID_LABEL = "aviary.dev/instance-id";
