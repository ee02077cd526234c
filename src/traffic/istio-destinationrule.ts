import type { KubeConfig } from "@kubernetes/client-node";
import { MANAGED_SUBSETS_ANNOTATION } from "../api/labels.ts";
import type { ObservedClaim, Role } from "../core/plan.ts";
import { claimPatch, readClaims, type Part } from "./claims.ts";
import {
  observeSubsets,
  restoreSubsetsPatch,
  selectSubsetPatch,
  subsetLabels,
  type SubsetNames,
} from "./destinationrule-patch.ts";
import { IstioVirtualServiceRouter, type VirtualServiceRef } from "./istio-virtualservice.ts";
import { asString, type Json } from "./json-patch.ts";
import { DESTINATION_RULES, RoutingObject, type RoutingReads } from "./routing-object.ts";
import type { SubsetRouter } from "./router.ts";
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
  readonly subsets: SubsetRouter;
  private readonly rule: RoutingObject;
  private readonly parts: Part[];

  constructor(
    kubeConfig: KubeConfig,
    namespace: string,
    virtualService: VirtualServiceRef,
    destinationRule: DestinationRuleRef,
    strategyField: string,
    reads?: RoutingReads,
  ) {
    super(
      kubeConfig,
      namespace,
      virtualService.name,
      subsetLevelTarget(virtualService, destinationRule, strategyField),
      reads,
    );
    const field = `${strategyField}.trafficRouting.istio.destinationRule`;
    const rule = new RoutingObject(
      kubeConfig,
      DESTINATION_RULES,
      namespace,
      destinationRule.name,
      `${field}.name`,
      reads,
    );
    const names: SubsetNames = {
      stable: destinationRule.stableSubset,
      canary: destinationRule.canarySubset,
      field,
    };
    this.rule = rule;
    const subsetField = (role: Role): string =>
      `${field}.${role === "stable" ? "stableSubset" : "canarySubset"}`;
    this.parts = (["stable", "canary"] as const).map((role) => ({
      key: names[role],
      what: `subset ${names[role]} of DestinationRule ${destinationRule.name}`,
      field: subsetField(role),
    }));
    const selector = async (role: Role) => {
      const labels = subsetLabels(await rule.peek(), names[role]);
      return labels === undefined
        ? undefined
        : {
            what: `subset ${names[role]} of DestinationRule ${destinationRule.name}`,
            field: subsetField(role),
            labels,
          };
    };
    this.subsets = {
      observe: async () => observeSubsets(await rule.get(), names),
      select: (role, hash) =>
        rule.update((dr) => selectSubsetPatch(dr, names[role], subsetField(role), hash)),
      labels: async () => {
        const [stable, canary] = await Promise.all([selector("stable"), selector("canary")]);
        return { ...(stable ? { stable } : {}), ...(canary ? { canary } : {}) };
      },
      restore: async () => {
        if (!(await rule.exists())) return;
        await rule.update((dr) => restoreSubsetsPatch(dr, [names.stable, names.canary]));
      },
    };
  }

  override async claims(): Promise<ObservedClaim[]> {
    const routes = await super.claims();
    return [
      ...routes,
      ...readClaims(await this.rule.peek(), MANAGED_SUBSETS_ANNOTATION, this.parts),
    ];
  }

  override async claim(owner: string): Promise<void> {
    await super.claim(owner);
    await this.rule.update((dr) =>
      claimPatch(
        dr,
        MANAGED_SUBSETS_ANNOTATION,
        this.parts.map((p) => p.key),
        owner,
        true,
      ),
    );
  }

  override async release(owner: string): Promise<void> {
    await super.release(owner);
    if (!(await this.rule.exists())) return;
    await this.rule.update((dr) =>
      claimPatch(
        dr,
        MANAGED_SUBSETS_ANNOTATION,
        this.parts.map((p) => p.key),
        owner,
        false,
      ),
    );
  }
}
