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
import type { TrafficRouter } from "./router.ts";

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

  /** One read gives the weights and whether every parent that reports on the route accepted it. */
  async observe(): Promise<ObservedRoutes> {
    const route = await this.route.get();
    const routes = observeHttpRoute(route, this.target);
    const acceptance = parentsAcceptance(route);
    if (acceptance.accepted) return routes;
    return { ...routes, pending: acceptance.message ?? "the route's parents have not accepted it" };
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
}
