import { isDeepStrictEqual } from "node:util";
import type { ManagedTraffic } from "../api/rollout.ts";
import type { Decision } from "./context.ts";
import { managedFromSpec, sameManaged, serviceNamesOf } from "./managed.ts";
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
    letGo(d, recorded, wanted);
    d.act({ kind: "release", managed: recorded });
    d.act({ kind: "claim", managed: wanted });
  }
  d.status.managed = wanted;
}

/**
 * Pointed elsewhere mid-release (a renamed VirtualService in Git, another HTTPRoute): what
 * only the old spec named is put back as a person expects, as on deletion. Otherwise the
 * old routing object keeps sending its share to a canary that is later scaled away, and an
 * old Service keeps selecting one hash after that ReplicaSet is gone.
 */
function letGo(d: Decision, recorded: ManagedTraffic, wanted: ManagedTraffic): void {
  const reset = routingToReset(recorded, wanted, d.status.headerRoutes ?? []);
  if (reset !== undefined) d.act({ kind: "resetRouting", ...reset });
  // Services Aviary narrows (none with subset-level routing), old and new.
  const kept = new Set(Object.values(serviceNamesOf(wanted)));
  const old = serviceNamesOf(recorded);
  const dropped: ManagedTraffic = { strategy: recorded.strategy };
  if (old.stable !== undefined && !kept.has(old.stable)) dropped.stableService = old.stable;
  if (old.canary !== undefined && !kept.has(old.canary)) dropped.canaryService = old.canary;
  // The old DestinationRule's subsets, when the new spec does not route through it.
  const dr = recorded.destinationRule;
  if (dr !== undefined && !isDeepStrictEqual(dr, wanted.destinationRule)) {
    dropped.destinationRule = dr;
    if (recorded.virtualService !== undefined) dropped.virtualService = recorded.virtualService;
  }
  if (
    dropped.stableService !== undefined ||
    dropped.canaryService !== undefined ||
    dropped.destinationRule !== undefined
  )
    d.act({ kind: "restoreSelectors", managed: dropped });
}

/**
 * What of the old routing object to put back on stable: all of it (and Aviary's header
 * routes) when the new spec names another object; on the same VirtualService, only the
 * named routes the new spec no longer lists (its header routes go on serving the release).
 */
function routingToReset(
  recorded: ManagedTraffic,
  wanted: ManagedTraffic,
  headerRoutes: readonly string[],
): { managed: ManagedTraffic; headerRoutes: readonly string[] } | undefined {
  const oldVs = recorded.virtualService;
  if (oldVs !== undefined) {
    const newVs = wanted.virtualService;
    if (newVs?.name !== oldVs.name) return { managed: recorded, headerRoutes };
    const still = new Set(newVs.routes ?? []);
    const gone = (oldVs.routes ?? []).filter((route) => !still.has(route));
    // Unnamed (the only route) on either side: the same route, nothing left behind.
    if (newVs.routes === undefined || gone.length === 0) return undefined;
    return {
      managed: { ...recorded, virtualService: { name: oldVs.name, routes: gone } },
      headerRoutes: [],
    };
  }
  const oldRoute = recorded.httpRoute;
  if (oldRoute !== undefined && wanted.httpRoute?.name !== oldRoute.name)
    return { managed: recorded, headerRoutes };
  return undefined;
}
