import type { KubeConfig } from "@kubernetes/client-node";
import type { Role } from "../core/plan.ts";
import { observeSubsets, selectSubsetPatch, type SubsetNames } from "./destinationrule-patch.ts";
import { IstioVirtualServiceRouter, type VirtualServiceRef } from "./istio-virtualservice.ts";
import { asString, type Json } from "./json-patch.ts";
import { DESTINATION_RULES, RoutingObject } from "./routing-object.ts";
import type { VirtualServiceTarget } from "./virtualservice-patch.ts";

export interface DestinationRuleRef {
  name: string;
  stableSubset: string;
  canarySubset: string;
}

/** Istio subset-level routing: the VirtualService's destinations are subsets of one host. */
export function subsetLevelTarget(
  ref: VirtualServiceRef,
  subsets: DestinationRuleRef,
  strategyField: string,
): VirtualServiceTarget {
  const drField = `${strategyField}.trafficRouting.istio.destinationRule`;
  const roleOf = (destination: Json): Role | undefined => {
    const subset = asString(destination.subset);
    if (subset === subsets.stableSubset) return "stable";
    if (subset === subsets.canarySubset) return "canary";
    return undefined;
  };
  return {
    routes: ref.routes,
    roleOf,
    field: `${strategyField}.trafficRouting.istio.virtualService`,
    sides: {
      stable: { label: `subset ${subsets.stableSubset}`, field: `${drField}.stableSubset` },
      canary: { label: `subset ${subsets.canarySubset}`, field: `${drField}.canarySubset` },
    },
  };
}

/**
 * Subset-level: weights live on the VirtualService's subset destinations, and each subset
 * of the DestinationRule selects a version by its pod-template-hash label.
 */
export class IstioDestinationRuleRouter extends IstioVirtualServiceRouter {
  readonly subsets: {
    observe(): Promise<{ stable?: string | undefined; canary?: string | undefined }>;
    select(role: Role, hash: string): Promise<void>;
  };

  constructor(
    kubeConfig: KubeConfig,
    namespace: string,
    virtualService: VirtualServiceRef,
    destinationRule: DestinationRuleRef,
    strategyField: string,
  ) {
    super(
      kubeConfig,
      namespace,
      virtualService.name,
      subsetLevelTarget(virtualService, destinationRule, strategyField),
    );
    const field = `${strategyField}.trafficRouting.istio.destinationRule`;
    const rule = new RoutingObject(
      kubeConfig,
      DESTINATION_RULES,
      namespace,
      destinationRule.name,
      `${field}.name`,
    );
    const names: SubsetNames = {
      stable: destinationRule.stableSubset,
      canary: destinationRule.canarySubset,
      field,
    };
    this.subsets = {
      observe: async () => observeSubsets(await rule.get(), names),
      select: (role, hash) =>
        rule.update((dr) =>
          selectSubsetPatch(
            dr,
            names[role],
            `${field}.${role === "stable" ? "stableSubset" : "canarySubset"}`,
            hash,
          ),
        ),
    };
  }
}
