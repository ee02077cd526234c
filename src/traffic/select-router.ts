import type { KubeConfig } from "@kubernetes/client-node";
import type { ManagedTraffic, Rollout } from "../api/rollout.ts";
import { managedFromSpec, strategyField } from "../core/managed.ts";
import { GatewayApiHttpRouteRouter } from "./gatewayapi-httproute.ts";
import { IstioDestinationRuleRouter } from "./istio-destinationrule.ts";
import {
  hostLevelTarget,
  IstioVirtualServiceRouter,
  type ServicePair,
} from "./istio-virtualservice.ts";
import type { TrafficRouter } from "./router.ts";
import type { RoutingReads } from "./routing-object.ts";

/** The Services traffic moves between; blue/green's active is stable, its preview is canary. */
function servicePair(managed: ManagedTraffic): ServicePair {
  const canary = managed.strategy === "canary";
  return {
    stable: managed.stableService ?? "",
    canary: managed.canaryService ?? "",
    strategyField: strategyField(managed),
    stableField: canary ? "stableService" : "activeService",
    canaryField: canary ? "canaryService" : "previewService",
  };
}

/**
 * The traffic router for what a Rollout manages (its spec's objects, or those recorded in
 * status.managed), or undefined when it routes by Service selectors alone.
 */
export function routerForManaged(
  managed: ManagedTraffic,
  namespace: string,
  kubeConfig: KubeConfig,
  /** The controller's watch cache; undefined: every read goes to the API server. */
  reads?: RoutingReads,
): TrafficRouter | undefined {
  const services = servicePair(managed);
  const { virtualService, destinationRule, httpRoute } = managed;
  if (virtualService !== undefined) {
    if (destinationRule !== undefined)
      return new IstioDestinationRuleRouter(
        kubeConfig,
        namespace,
        virtualService,
        destinationRule,
        services.strategyField,
        reads,
      );
    return new IstioVirtualServiceRouter(
      kubeConfig,
      namespace,
      virtualService.name,
      hostLevelTarget(virtualService, services, namespace),
      reads,
    );
  }
  if (httpRoute !== undefined) {
    return new GatewayApiHttpRouteRouter(
      kubeConfig,
      httpRoute.name,
      {
        stableService: services.stable,
        canaryService: services.canary,
        namespace,
        strategyField: services.strategyField,
      },
      reads,
    );
  }
  return undefined;
}

/** The traffic router a Rollout's spec asks for. */
export function routerFor(rollout: Rollout, kubeConfig: KubeConfig): TrafficRouter | undefined {
  return routerForManaged(
    managedFromSpec(rollout),
    rollout.metadata.namespace ?? "default",
    kubeConfig,
  );
}
