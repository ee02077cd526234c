import type { KubeConfig } from "@kubernetes/client-node";
import type { HeaderMatch } from "../api/rollout.ts";
import type { ObservedRoutes } from "../core/plan.ts";
import {
  addHeaderRulePatch,
  httpRouteWeightPatch,
  observeHttpRoute,
  parentsAcceptance,
  removeHeaderRulePatch,
  type HttpRouteTarget,
} from "./httproute-patch.ts";
import { HTTP_ROUTES, RoutingObject } from "./routing-object.ts";
import type { ParentsAcceptance, TrafficRouter } from "./router.ts";

/**
 * Gateway API HTTPRoute, whose parent is a Gateway or a Service (Linkerd and other GAMMA
 * meshes): edits only backendRef weights and Aviary's own header rules.
 */
export class GatewayApiHttpRouteRouter implements TrafficRouter {
  private readonly route: RoutingObject;

  constructor(
    kubeConfig: KubeConfig,
    name: string,
    private readonly target: HttpRouteTarget,
  ) {
    const field = `${target.strategyField}.trafficRouting.gatewayAPI.httpRoute.name`;
    this.route = new RoutingObject(kubeConfig, HTTP_ROUTES, target.namespace, name, field);
  }

  async observe(): Promise<ObservedRoutes> {
    return observeHttpRoute(await this.route.get(), this.target);
  }

  setWeight(canaryWeight: number): Promise<void> {
    return this.route.update((route) => httpRouteWeightPatch(route, this.target, canaryWeight));
  }

  setHeaderRoute(name: string, match: readonly HeaderMatch[]): Promise<void> {
    return this.route.update((route) => addHeaderRulePatch(route, this.target, name, match));
  }

  removeHeaderRoute(name: string): Promise<void> {
    return this.route.update((route) => removeHeaderRulePatch(route, name));
  }

  async parentsAccepted(): Promise<ParentsAcceptance> {
    return parentsAcceptance(await this.route.get());
  }
}
