import type { KubeConfig } from "@kubernetes/client-node";
import type { HeaderMatch } from "../api/rollout.ts";
import { MANAGED_ROUTES_ANNOTATION } from "../api/labels.ts";
import type { ObservedClaim, ObservedRoutes, Role } from "../core/plan.ts";
import { claimPatch, readClaims, type Part } from "./claims.ts";
import { asArray, asObject, asString, type Json } from "./json-patch.ts";
import { RoutingObject, VIRTUAL_SERVICES, type RoutingReads } from "./routing-object.ts";
import { MANAGED_ROUTE_PREFIX, type TrafficRouter } from "./router.ts";
import {
  addHeaderRoutePatch,
  hostNamesService,
  observeVirtualService,
  removeHeaderRoutePatch,
  virtualServiceWeightPatch,
  type VirtualServiceTarget,
} from "./virtualservice-patch.ts";

export interface VirtualServiceRef {
  name: string;
  routes?: readonly string[] | undefined;
}

/** The Services traffic moves between, and the Rollout fields that name them. */
export interface ServicePair {
  stable: string;
  canary: string;
  /** e.g. `spec.strategy.canary` or `spec.strategy.blueGreen`. */
  strategyField: string;
  /** Field names of the two Services within the strategy (stableService/canaryService, activeService/previewService). */
  stableField: string;
  canaryField: string;
}

/** Istio host-level routing: the VirtualService's destinations are the stable and canary Services. */
export function hostLevelTarget(
  ref: VirtualServiceRef,
  services: ServicePair,
  namespace: string,
): VirtualServiceTarget {
  const roleOf = (destination: Json): Role | undefined => {
    const host = asString(destination.host) ?? "";
    if (hostNamesService(host, services.stable, namespace)) return "stable";
    if (hostNamesService(host, services.canary, namespace)) return "canary";
    return undefined;
  };
  return {
    routes: ref.routes,
    roleOf,
    field: `${services.strategyField}.trafficRouting.istio.virtualService`,
    sides: {
      stable: {
        label: `Service ${services.stable}`,
        field: `${services.strategyField}.${services.stableField}`,
      },
      canary: {
        label: `Service ${services.canary}`,
        field: `${services.strategyField}.${services.canaryField}`,
      },
    },
  };
}

/** Edits only the weights of the named routes and Aviary's own header routes in a user's VirtualService. */
export class IstioVirtualServiceRouter implements TrafficRouter {
  private readonly virtualService: RoutingObject;

  constructor(
    kubeConfig: KubeConfig,
    namespace: string,
    name: string,
    private readonly target: VirtualServiceTarget,
    reads?: RoutingReads,
  ) {
    this.virtualService = new RoutingObject(
      kubeConfig,
      VIRTUAL_SERVICES,
      namespace,
      name,
      `${target.field}.name`,
      reads,
    );
  }

  async observe(): Promise<ObservedRoutes> {
    return observeVirtualService(await this.virtualService.get(), this.target);
  }

  setWeight(canaryWeight: number): Promise<void> {
    return this.virtualService.update((vs) =>
      virtualServiceWeightPatch(vs, this.target, canaryWeight),
    );
  }

  setHeaderRoute(name: string, match: readonly HeaderMatch[]): Promise<void> {
    return this.virtualService.update((vs) => addHeaderRoutePatch(vs, this.target, name, match));
  }

  removeHeaderRoute(name: string): Promise<void> {
    return this.virtualService.update((vs) => removeHeaderRoutePatch(vs, name));
  }

  async claims(): Promise<ObservedClaim[]> {
    const vs = await this.virtualService.peek();
    return readClaims(vs, MANAGED_ROUTES_ANNOTATION, this.routeParts(vs));
  }

  async claim(owner: string): Promise<void> {
    await this.virtualService.update((vs) =>
      claimPatch(vs, MANAGED_ROUTES_ANNOTATION, keys(this.routeParts(vs)), owner, true),
    );
  }

  async release(owner: string): Promise<void> {
    if (!(await this.virtualService.exists())) return;
    await this.virtualService.update((vs) =>
      claimPatch(vs, MANAGED_ROUTES_ANNOTATION, keys(this.routeParts(vs)), owner, false),
    );
  }

  async reset(headerRoutes: readonly string[]): Promise<void> {
    if (!(await this.virtualService.exists())) return;
    await this.setWeight(0);
    for (const name of headerRoutes) await this.removeHeaderRoute(name);
  }

  /** The routes whose weights this Rollout manages: named ones, or the only http route. */
  private routeParts(vs: Json): Part[] {
    const name = this.virtualService.name;
    const routesField = `${this.target.field}.routes`;
    if (this.target.routes !== undefined && this.target.routes.length > 0)
      return this.target.routes.map((route) => ({
        key: route,
        what: `route "${route}" of VirtualService ${name}`,
        field: routesField,
      }));
    const only = asArray(asObject(vs.spec).http)
      .map((route) => asString(asObject(route).name))
      .filter((route) => !(route ?? "").startsWith(MANAGED_ROUTE_PREFIX));
    const key = only.length === 1 ? (only[0] ?? ONLY_ROUTE) : ONLY_ROUTE;
    return [
      {
        key,
        what: `the http route of VirtualService ${name}`,
        field: `${this.target.field}.name`,
      },
    ];
  }
}

/** The claim key of a VirtualService's only, unnamed http route. */
const ONLY_ROUTE = "*";

const keys = (parts: readonly Part[]): string[] => parts.map((part) => part.key);
