import type { KubeConfig } from "@kubernetes/client-node";
import type { HeaderMatch } from "../api/rollout.ts";
import { MANAGED_BACKENDS_ANNOTATION } from "../api/labels.ts";
import type { ObservedClaim, ObservedRoutes } from "../core/plan.ts";
import { claimPatch, readClaims, type Part } from "./claims.ts";
import {
  addHeaderRulePatch,
  httpRouteWeightPatch,
  observeHttpRoute,
  parentsAcceptance,
  removeHeaderRulePatch,
  type HttpRouteTarget,
} from "./httproute-patch.ts";
import { HTTP_ROUTES, RoutingObject, type RoutingReads } from "./routing-object.ts";
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
    reads?: RoutingReads,
  ) {
    const field = `${target.strategyField}.trafficRouting.gatewayAPI.httpRoute.name`;
    this.route = new RoutingObject(kubeConfig, HTTP_ROUTES, target.namespace, name, field, reads);
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

  async claims(): Promise<ObservedClaim[]> {
    return readClaims(await this.route.peek(), MANAGED_BACKENDS_ANNOTATION, [this.part()]);
  }

  async claim(owner: string): Promise<void> {
    const key = this.part().key;
    await this.route.update((route) =>
      claimPatch(route, MANAGED_BACKENDS_ANNOTATION, [key], owner, true),
    );
  }

  async release(owner: string): Promise<void> {
    if (!(await this.route.exists())) return;
    const key = this.part().key;
    await this.route.update((route) =>
      claimPatch(route, MANAGED_BACKENDS_ANNOTATION, [key], owner, false),
    );
  }

  async reset(headerRoutes: readonly string[]): Promise<void> {
    if (!(await this.route.exists())) return;
    await this.setWeight(0);
    for (const name of headerRoutes) await this.removeHeaderRoute(name);
  }

  /** What Aviary manages in an HTTPRoute: the weights of the rules that send traffic to both Services. */
  private part(): Part {
    const { stableService, canaryService, strategyField } = this.target;
    return {
      key: `${stableService},${canaryService}`,
      what: `the rules of HTTPRoute ${this.route.name} with backends ${stableService} and ${canaryService}`,
      field: `${strategyField}.trafficRouting.gatewayAPI.httpRoute.name`,
    };
  }
}
