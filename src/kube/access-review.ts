import {
  AuthorizationV1Api,
  V1ResourceAttributes,
  V1SelfSubjectAccessReview,
  V1SelfSubjectAccessReviewSpec,
  type KubeConfig,
} from "@kubernetes/client-node";
import { GROUP, ROLLOUT_PLURAL } from "../api/rollout.ts";

/** May the user do this? (Aviary's Rollouts unless the attributes say otherwise.) */
export type AccessCheck = (attributes: Record<string, string>) => Promise<boolean>;

/**
 * Access checks as SelfSubjectAccessReviews with the user's own credentials. When the
 * review itself fails, the answer is `whenUnknown`: deny for a gate, allow for a view
 * that only wants to leave out what it could never read.
 */
export function accessReview(kubeConfig: KubeConfig, whenUnknown = false): AccessCheck {
  const authz = kubeConfig.makeApiClient(AuthorizationV1Api);
  return async (attributes) => {
    try {
      const body = Object.assign(new V1SelfSubjectAccessReview(), {
        spec: Object.assign(new V1SelfSubjectAccessReviewSpec(), {
          resourceAttributes: Object.assign(new V1ResourceAttributes(), {
            group: GROUP,
            resource: ROLLOUT_PLURAL,
            ...attributes,
          }),
        }),
      });
      const review = await authz.createSelfSubjectAccessReview({ body });
      return review.status?.allowed === true;
    } catch {
      return whenUnknown;
    }
  };
}
