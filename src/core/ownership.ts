import type { Decision } from "./context.ts";
import { managedFromSpec, sameManaged } from "./managed.ts";
import type { ObservedClaim, Problem } from "./plan.ts";
import { FINALIZER } from "../api/labels.ts";

/**
 * One owner per route, subset and Service. Aviary marks what a Rollout manages with an
 * annotation naming it; a second Rollout that reaches for a marked part gets a problem
 * naming the owner and touches nothing. A mark whose Rollout is gone is free to take.
 */

function heldByOther(claim: ObservedClaim, me: string): boolean {
  return claim.owner !== undefined && claim.owner !== me && claim.ownerExists !== false;
}

export function ownershipProblems(
  claims: readonly ObservedClaim[] | undefined,
  me: string,
): Problem[] {
  return (claims ?? [])
    .filter((claim) => heldByOther(claim, me))
    .map((claim) => ({
      path: claim.field,
      message: `${claim.what} is managed by Rollout ${claim.owner ?? "?"}: one Rollout per route and Service; point this Rollout at its own, or delete Rollout ${claim.owner ?? "?"} first`,
    }));
}

/**
 * With a valid spec and nothing held by another Rollout: the finalizer first (so every claim
 * is released on deletion), then the claims, and once they are all ours, status.managed
 * records what this Rollout manages. A Rollout pointed elsewhere lets go of the old parts.
 */
export function manageTraffic(d: Decision): void {
  const me = d.rollout.metadata.name;
  if (!(d.rollout.metadata.finalizers ?? []).includes(FINALIZER))
    d.act({ kind: "setFinalizer", present: true });
  const wanted = managedFromSpec(d.rollout);
  const claims = d.observed.claims ?? [];
  if (claims.some((claim) => claim.owner !== me)) {
    d.act({ kind: "claim", managed: wanted });
    return;
  }
  const recorded = d.status.managed;
  if (sameManaged(recorded, wanted)) return;
  // Released first, then claimed again: the old and new may share a Service.
  if (recorded !== undefined) {
    d.act({ kind: "release", managed: recorded });
    d.act({ kind: "claim", managed: wanted });
  }
  d.status.managed = wanted;
}
