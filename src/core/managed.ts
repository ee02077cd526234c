import { isDeepStrictEqual } from "node:util";
import type { ManagedTraffic, Rollout } from "../api/rollout.ts";
import type { ServiceNames } from "./workload.ts";

/**
 * What Aviary manages for a Rollout: the Services whose selectors it narrows and the
 * routing objects whose weights it sets. Derived from a valid spec, and recorded in
 * status.managed, so traffic can always be put back (abort, deletion) even when a later
 * edit broke the spec or renamed what it points at.
 */
export function managedFromSpec(rollout: Rollout): ManagedTraffic {
  const { canary, blueGreen } = rollout.spec.strategy;
  const routing = canary?.trafficRouting ?? blueGreen?.trafficRouting;
  const managed: ManagedTraffic = canary
    ? {
        strategy: "canary",
        ...(canary.stableService === undefined ? {} : { stableService: canary.stableService }),
        ...(canary.canaryService === undefined ? {} : { canaryService: canary.canaryService }),
      }
    : {
        strategy: "blueGreen",
        stableService: blueGreen?.activeService ?? "",
        canaryService: blueGreen?.previewService ?? "",
      };
  const vs = routing?.istio?.virtualService;
  if (vs !== undefined)
    managed.virtualService = { name: vs.name, ...(vs.routes ? { routes: [...vs.routes] } : {}) };
  const dr = routing?.istio?.destinationRule;
  if (dr !== undefined) managed.destinationRule = { ...dr };
  const route = routing?.gatewayAPI?.httpRoute;
  if (route !== undefined) managed.httpRoute = { name: route.name };
  return managed;
}

export function serviceNamesOf(managed: ManagedTraffic): ServiceNames {
  // Subset-level routing moves DestinationRule subsets, not Service selectors.
  if (managed.destinationRule !== undefined) return { stable: undefined, canary: undefined };
  return { stable: managed.stableService, canary: managed.canaryService };
}

/** Whether the Rollout routes by weights (a VirtualService or HTTPRoute) rather than by replicas. */
export function routesByWeight(managed: ManagedTraffic): boolean {
  return managed.virtualService !== undefined || managed.httpRoute !== undefined;
}

/** The Rollout field under which the managed objects are named, for problems. */
export function strategyField(managed: ManagedTraffic): string {
  return `spec.strategy.${managed.strategy}`;
}

export function sameManaged(a: ManagedTraffic | undefined, b: ManagedTraffic | undefined): boolean {
  // Key order is not kept by the API server, so compare structurally.
  return isDeepStrictEqual(a, b);
}
