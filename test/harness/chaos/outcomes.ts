import type { RolloutStatus } from "../../../src/api/rollout.ts";
import type { Post } from "../receiver.ts";
import { MANUAL_WEIGHT, type Kind, type Release } from "./fleet.ts";
import type { WeightedVersion } from "./sampler.ts";

/** What a release ended as, told from its status alone. */
export type Outcome = "promoted" | "rolled back" | "waiting" | "in progress";

export const EXPECTED: Record<Kind, Outcome> = {
  healthy: "promoted",
  bad: "rolled back",
  manual: "waiting",
};

export function outcomeOf(release: Release, s: RolloutStatus): Outcome {
  const v2 = s.canaryHash ?? release.canaryHash;
  if (s.phase === "Healthy" && s.stableHash !== release.stableHash && s.stableHash === v2)
    return "promoted";
  if (s.phase === "Degraded" && s.stableHash === release.stableHash) return "rolled back";
  if (
    release.kind === "manual" &&
    s.phase === "Paused" &&
    s.currentStepIndex === 1 &&
    s.canaryWeight === MANUAL_WEIGHT
  )
    return "waiting";
  return "in progress";
}

/**
 * Half-routed: some weight on a version other than the Rollout's stable one once the
 * release is over (nothing may stay on the old canary, or on the old stable after a
 * promotion). Returns why, or undefined when all weight is on the stable version.
 */
export function halfRouted(
  versions: readonly WeightedVersion[],
  stableHash: string | undefined,
): string | undefined {
  const weighted = versions.filter((v) => v.weight > 0);
  if (weighted.length === 0) return "no backend has any weight";
  const elsewhere = weighted.filter((v) => v.hash !== stableHash);
  if (elsewhere.length === 0) return undefined;
  return elsewhere.map((v) => `${v.weight}% on ${v.backend} (${v.hash ?? "no hash"})`).join(", ");
}

/** The notifications each kind of release must have delivered (default `on` list). */
export const EXPECTED_NOTIFICATIONS: Record<Kind, string[]> = {
  healthy: ["started", "promoted"],
  bad: ["started", "rolledBack"],
  // Waits at the pause, then is promoted by a command once the chaos is over.
  manual: ["started", "paused", "promoted"],
};

export interface NotificationCount {
  /** Posts the receiver accepted for the release (2xx). */
  accepted: number;
  /** Accepted posts whose id had been accepted before. */
  duplicates: number;
  /** Expected kinds never accepted. */
  lost: string[];
}

interface Payload {
  id?: string;
  kind?: string;
  rollout?: { namespace?: string };
}

/** Counts one release's notifications among the receiver's posts made after `since`. */
export function countNotifications(
  release: Release,
  posts: readonly Post[],
  since: number,
): NotificationCount {
  const seen = new Set<string>();
  const kinds = new Set<string>();
  let accepted = 0;
  let duplicates = 0;
  for (const post of posts) {
    if (post.status === undefined || post.status < 200 || post.status >= 300) continue;
    let payload: Payload;
    try {
      payload = JSON.parse(post.body) as Payload;
    } catch {
      continue;
    }
    if (payload.rollout?.namespace !== release.namespace || post.at < since) continue;
    accepted++;
    const id = payload.id ?? "";
    if (seen.has(id)) duplicates++;
    seen.add(id);
    kinds.add(payload.kind ?? "");
  }
  const lost = EXPECTED_NOTIFICATIONS[release.kind].filter((k) => !kinds.has(k));
  return { accepted, duplicates, lost };
}
