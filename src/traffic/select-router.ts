import type { KubeConfig } from "@kubernetes/client-node";
import type { Rollout, TrafficRouting } from "../api/rollout.ts";
import { GatewayApiHttpRouteRouter } from "./gatewayapi-httproute.ts";
import { IstioDestinationRuleRouter } from "./istio-destinationrule.ts";
import {
  hostLevelTarget,
  IstioVirtualServiceRouter,
  type ServicePair,
} from "./istio-virtualservice.ts";
import type { TrafficRouter } from "./router.ts";

/** The Services and routing a Rollout's strategy names; blue/green's active is stable, its preview is canary. */
function strategyRouting(
  rollout: Rollout,
): { services: ServicePair; routing: TrafficRouting | undefined } | undefined {
  const { canary, blueGreen } = rollout.spec.strategy;
  if (canary) {
    const services: ServicePair = {
      stable: canary.stableService,
      canary: canary.canaryService,
      strategyField: "spec.strategy.canary",
      stableField: "stableService",
      canaryField: "canaryService",
    };
    return { services, routing: canary.trafficRouting };
  }
  if (blueGreen) {
    const services: ServicePair = {
      stable: blueGreen.activeService,
      canary: blueGreen.previewService,
      strategyField: "spec.strategy.blueGreen",
      stableField: "activeService",
      canaryField: "previewService",
    };
    return { services, routing: blueGreen.trafficRouting };
  }
  return undefined;
}

/** The traffic router a Rollout asks for, or undefined when it routes by Service selectors alone. */
export function routerFor(rollout: Rollout, kubeConfig: KubeConfig): TrafficRouter | undefined {
  const chosen = strategyRouting(rollout);
  if (!chosen?.routing) return undefined;
  const { services, routing } = chosen;
  const namespace = rollout.metadata.namespace ?? "default";
  if (routing.istio) {
    const { virtualService, destinationRule } = routing.istio;
    if (destinationRule)
      return new IstioDestinationRuleRouter(
        kubeConfig,
        namespace,
        virtualService,
        destinationRule,
        services.strategyField,
      );
    return new IstioVirtualServiceRouter(
      kubeConfig,
      namespace,
      virtualService.name,
      hostLevelTarget(virtualService, services, namespace),
    );
  }
  if (routing.gatewayAPI) {
    return new GatewayApiHttpRouteRouter(kubeConfig, routing.gatewayAPI.httpRoute.name, {
      stableService: services.stable,
      canaryService: services.canary,
      namespace,
      strategyField: services.strategyField,
    });
  }
  return undefined;
}
