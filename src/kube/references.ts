import type { KubernetesObject } from "@kubernetes/client-node";
import type { ResourceKind } from "./informer.ts";

/**
 * Which Rollouts name which Service or routing object, kept as an index updated from the
 * Rollout watch, so a change to one Service wakes its Rollouts without scanning all of
 * them (a scan per event is quadratic during a release of thousands of Rollouts).
 */
export interface ReferencedKind {
  resource: ResourceKind;
  names: (spec: RolloutSpecLike) => (string | undefined)[];
  /**
   * Watched only once some Rollout names one: a fleet uses one mesh (or none, or no
   * workloadRef), and a kind whose CRD is not installed would fail its watch for ever.
   */
  onDemand?: boolean;
}

export const SERVICE: ResourceKind = { apiVersion: "v1", kind: "Service", plural: "services" };

export const DEPLOYMENT: ResourceKind = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  plural: "deployments",
};

export const REFERENCED: readonly ReferencedKind[] = [
  {
    resource: SERVICE,
    names: (s) => [
      s.strategy?.canary?.stableService,
      s.strategy?.canary?.canaryService,
      s.strategy?.blueGreen?.activeService,
      s.strategy?.blueGreen?.previewService,
    ],
  },
  {
    resource: {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      plural: "virtualservices",
    },
    names: (s) => routingOf(s).map((r) => r?.istio?.virtualService?.name),
    onDemand: true,
  },
  {
    resource: {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      plural: "destinationrules",
    },
    names: (s) => routingOf(s).map((r) => r?.istio?.destinationRule?.name),
    onDemand: true,
  },
  {
    resource: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      plural: "httproutes",
    },
    names: (s) => routingOf(s).map((r) => r?.gatewayAPI?.httpRoute?.name),
    onDemand: true,
  },
  { resource: DEPLOYMENT, names: (s) => [s.workloadRef?.name], onDemand: true },
];

/** Read loosely: a Rollout that fails validation still names its objects. */
interface RoutingLike {
  istio?: { virtualService?: { name?: string }; destinationRule?: { name?: string } };
  gatewayAPI?: { httpRoute?: { name?: string } };
}
export interface RolloutSpecLike {
  workloadRef?: { name?: string };
  strategy?: {
    canary?: { stableService?: string; canaryService?: string; trafficRouting?: RoutingLike };
    blueGreen?: { activeService?: string; previewService?: string; trafficRouting?: RoutingLike };
  };
}

function routingOf(spec: RolloutSpecLike): (RoutingLike | undefined)[] {
  return [spec.strategy?.canary?.trafficRouting, spec.strategy?.blueGreen?.trafficRouting];
}

export function keyOf(object: KubernetesObject, name = object.metadata?.name ?? ""): string {
  return `${object.metadata?.namespace ?? ""}/${name}`;
}

export class ReferenceIndex {
  /** "kind:namespace/name" → keys of the Rollouts that name it. */
  private readonly rolloutsByRef = new Map<string, Set<string>>();
  private readonly refsByRollout = new Map<string, string[]>();

  /** Records what a Rollout names now (or, deleted, forgets it). */
  update(rollout: KubernetesObject, deleted: boolean): void {
    const rolloutKey = keyOf(rollout);
    for (const ref of this.refsByRollout.get(rolloutKey) ?? []) {
      const set = this.rolloutsByRef.get(ref);
      set?.delete(rolloutKey);
      if (set?.size === 0) this.rolloutsByRef.delete(ref);
    }
    this.refsByRollout.delete(rolloutKey);
    if (deleted) return;
    const spec = (rollout as { spec?: RolloutSpecLike }).spec ?? {};
    const namespace = rollout.metadata?.namespace ?? "";
    const refs = new Set<string>();
    for (const { resource, names } of REFERENCED)
      for (const name of names(spec))
        if (name !== undefined) refs.add(refKey(resource, namespace, name));
    for (const ref of refs) {
      let set = this.rolloutsByRef.get(ref);
      if (set === undefined) this.rolloutsByRef.set(ref, (set = new Set()));
      set.add(rolloutKey);
    }
    this.refsByRollout.set(rolloutKey, [...refs]);
  }

  /** Whether any Rollout names an object of this kind. */
  uses(resource: ResourceKind): boolean {
    const prefix = `${resource.kind}:`;
    for (const ref of this.rolloutsByRef.keys()) if (ref.startsWith(prefix)) return true;
    return false;
  }

  /** Keys of the Rollouts that name this object. */
  rolloutsNaming(resource: ResourceKind, object: KubernetesObject): readonly string[] {
    const ref = refKey(resource, object.metadata?.namespace ?? "", object.metadata?.name ?? "");
    return [...(this.rolloutsByRef.get(ref) ?? [])];
  }
}

function refKey(resource: ResourceKind, namespace: string, name: string): string {
  return `${resource.kind}:${namespace}/${name}`;
}
