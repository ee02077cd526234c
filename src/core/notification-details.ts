import type {
  NotificationDetails,
  NotifiedMetric,
  Rollout,
  RolloutSpec,
  RolloutStatus,
} from "../api/rollout.ts";
import type { Notification, Observed, ObservedReplicaSet } from "./plan.ts";
import { describeStep } from "./steps.ts";

const MAX_IMAGES = 20;
const MAX_METRICS = 20;

/** What a message's details are read from: the release at the transition (a Decision is one). */
export interface ReleaseAtTransition {
  readonly rollout: Rollout;
  readonly spec: RolloutSpec;
  readonly status: RolloutStatus;
  readonly observed: Observed;
  replicaSet(hash: string | undefined): ObservedReplicaSet | undefined;
}

/**
 * What a message shows beside its text, taken at the transition: both versions (hash and
 * images), the step and weight, the analysis evidence for a rollback, and for a pause the
 * exact command that continues the release.
 */
export function notificationDetails(
  d: ReleaseAtTransition,
  notification: Notification,
): NotificationDetails {
  const st = d.status;
  const details: NotificationDetails = {};
  if (st.stableHash !== undefined)
    details.stable = version(st.stableHash, d.replicaSet(st.stableHash)?.images);
  const canary = st.canaryHash ?? d.observed.templateHash;
  if (canary !== "" && canary !== st.stableHash)
    details.canary = version(
      canary,
      d.replicaSet(canary)?.images ??
        (canary === d.observed.templateHash ? d.observed.templateImages : undefined),
    );
  const steps = d.spec.strategy.canary?.steps;
  const index = st.currentStepIndex;
  if (steps !== undefined && steps.length > 0 && index !== undefined && index < steps.length)
    details.step = {
      index: index + 1,
      count: steps.length,
      description: describeStep(steps[index]),
    };
  const weight = st.canaryWeight ?? d.observed.routes?.canaryWeight;
  if (weight !== undefined) details.canaryWeight = weight;
  if (
    notification.kind === "rolledBack" ||
    notification.kind === "aborted" ||
    notification.kind === "progressDeadlineExceeded"
  ) {
    const evidence = (st.analysis?.metrics ?? [])
      .slice(0, MAX_METRICS)
      .map((m): NotifiedMetric => ({
        name: m.name,
        verdict: m.verdict,
        ...(m.canary === undefined ? {} : { canary: m.canary }),
        ...(m.stable === undefined ? {} : { stable: m.stable }),
        ...(m.evidence === undefined ? {} : { evidence: m.evidence }),
        ...(m.bound === undefined ? {} : { bound: m.bound }),
        ...(m.message === undefined ? {} : { message: m.message }),
      }));
    if (evidence.length > 0) details.evidence = evidence;
  }
  if (notification.kind === "paused") details.promoteCommand = promoteCommand(d);
  return details;
}

/** The CLI command that continues a release waiting at a pause (also `kubectl aviary promote`). */
export function promoteCommand(d: Pick<ReleaseAtTransition, "rollout">): string {
  const { name, namespace } = d.rollout.metadata;
  return `aviary promote ${name} -n ${namespace ?? "default"}`;
}

function version(
  hash: string,
  images: readonly string[] | undefined,
): NotificationDetails["stable"] {
  return images === undefined || images.length === 0
    ? { hash }
    : { hash, images: images.slice(0, MAX_IMAGES) };
}
