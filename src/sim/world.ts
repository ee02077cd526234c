import type { VersionCounters } from "../analysis/judge.ts";
import type { Action, ObservedReplicaSet, Role } from "../core/plan.ts";
import { seededRandom, type Random } from "./random.ts";
import {
  addRequests,
  arrivals,
  emptyCounters,
  splitByWeight,
  type VersionBehaviour,
} from "./traffic-model.ts";

export interface WorldOptions {
  seed: number;
  /** Requests per second reaching the service. */
  rps: number;
  /** Seconds a new pod takes to become available. */
  podReadySeconds: number;
  /** Behaviour per pod-template hash; `fallback` for any other. */
  behaviour: (hash: string) => VersionBehaviour;
  /** Whether the Rollout routes by weight (VirtualService/HTTPRoute) or by replica count. */
  routed: boolean;
  /** Share of requests carrying a header that header routes match (0..1). */
  headerShare: number;
}

interface SimReplicaSet {
  hash: string;
  replicas: number;
  /** Virtual times at which each wanted pod becomes available. */
  readyAt: number[];
  createdAt: number;
}

/**
 * An in-memory cluster and mesh: ReplicaSets whose pods become available after a delay,
 * two Services, a router with weights and header routes, and per-version traffic counters.
 * It executes the engine's actions the way the real adapters would, idempotently.
 */
export class SimWorld {
  readonly random: Random;
  private readonly replicaSets = new Map<string, SimReplicaSet>();
  readonly selectors: { stable?: string; canary?: string } = {};
  canaryWeight = 0;
  headerRoutes: string[] = [];
  private readonly counters = new Map<string, VersionCounters>();

  constructor(
    private readonly options: WorldOptions,
    public now: number,
  ) {
    this.random = seededRandom(options.seed);
  }

  observeReplicaSets(): ObservedReplicaSet[] {
    return [...this.replicaSets.values()].map((rs) => ({
      hash: rs.hash,
      replicas: rs.replicas,
      availableReplicas: rs.readyAt.filter((t) => t <= this.now).length,
      createdAt: new Date(rs.createdAt).toISOString(),
    }));
  }

  counterFor(hash: string | undefined): VersionCounters | undefined {
    return hash === undefined ? undefined : (this.counters.get(hash) ?? emptyCounters());
  }

  execute(action: Action): void {
    // (claims and finalizers are no-ops: the world holds one Rollout)
    switch (action.kind) {
      case "scaleReplicaSet":
        this.scale(action.hash, action.replicas);
        return;
      case "deleteReplicaSet":
        this.replicaSets.delete(action.hash);
        return;
      case "setServiceSelector":
        this.selectors[action.role satisfies Role] = action.hash;
        return;
      case "setWeight":
        this.canaryWeight = action.canaryWeight;
        return;
      case "setHeaderRoute":
        if (!this.headerRoutes.includes(action.name))
          this.headerRoutes = [action.name, ...this.headerRoutes];
        return;
      case "removeHeaderRoute":
        this.headerRoutes = this.headerRoutes.filter((name) => name !== action.name);
        return;
      case "scaleWorkload":
        // The simulated world has no Deployment of its own.
        return;
      case "claim":
      case "release":
      case "restoreSelectors":
      case "resetRouting":
      case "setFinalizer":
        // One Rollout and one route per simulated world: nothing to mark, nothing to hand back.
        return;
    }
  }

  private scale(hash: string, replicas: number): void {
    const rs = this.replicaSets.get(hash) ?? {
      hash,
      replicas: 0,
      readyAt: [],
      createdAt: this.now,
    };
    const readyAt = rs.readyAt.slice(0, replicas);
    while (readyAt.length < replicas) readyAt.push(this.now + this.options.podReadySeconds * 1000);
    this.replicaSets.set(hash, { ...rs, replicas, readyAt });
  }

  available(hash: string | undefined): number {
    const rs = hash === undefined ? undefined : this.replicaSets.get(hash);
    return rs === undefined ? 0 : rs.readyAt.filter((t) => t <= this.now).length;
  }

  /** Advances the virtual clock, sending the traffic of that period through the mesh. */
  advance(seconds: number): void {
    this.now += seconds * 1000;
    const total = arrivals(this.random, this.options.rps, seconds);
    if (total === 0) return;
    const stable = this.selectors.stable;
    const canary = this.selectors.canary;
    let toCanary: number;
    if (this.options.routed) {
      const headered =
        this.headerRoutes.length > 0 ? Math.round(total * this.options.headerShare) : 0;
      toCanary = headered + splitByWeight(this.random, total - headered, this.canaryWeight).canary;
    } else {
      // Without a router, a Service spreads requests over all ready pods of both versions.
      const stablePods = this.available(stable);
      const canaryPods = canary === stable ? 0 : this.available(canary);
      const pods = stablePods + canaryPods;
      toCanary =
        pods === 0 ? 0 : splitByWeight(this.random, total, (100 * canaryPods) / pods).canary;
    }
    this.serve(canary, toCanary);
    this.serve(stable, total - toCanary);
  }

  private serve(hash: string | undefined, requests: number): void {
    if (hash === undefined || requests <= 0 || this.available(hash) === 0) return;
    const counters = this.counters.get(hash) ?? emptyCounters();
    this.counters.set(
      hash,
      addRequests(this.random, counters, this.options.behaviour(hash), requests),
    );
  }
}
