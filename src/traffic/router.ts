import type { HeaderMatch } from "../api/rollout.ts";
import type {
  ObservedClaim,
  ObservedRoutes,
  ObservedSelector,
  Problem,
  Role,
} from "../core/plan.ts";

/**
 * One mesh's way of moving traffic between stable and canary. Implementations edit only
 * what Aviary manages (the weights of the named routes, Aviary's own header routes, and
 * for subset-level routing the subsets' hash label) and leave everything else a person
 * or Argo CD wrote untouched. Every method is idempotent: it reads, diffs, and writes
 * only when something differs, with optimistic concurrency (resourceVersion or JSON
 * Patch `test`), retrying on conflict with fresh data.
 */
export interface TrafficRouter {
  /**
   * Current canary weight and Aviary-managed header routes, and `pending` when the route is
   * not live yet (Gateway API: a parent has not accepted it). Throws RoutingProblem when the
   * object is missing or unusable.
   */
  observe(): Promise<ObservedRoutes>;
  setWeight(canaryWeight: number): Promise<void>;
  setHeaderRoute(name: string, match: readonly HeaderMatch[]): Promise<void>;
  removeHeaderRoute(name: string): Promise<void>;
  /** Who holds each part this router manages (routes, subsets, backend pairs), from the last read. */
  claims(): Promise<ObservedClaim[]>;
  /** Marks the parts as `owner`'s (claim), or removes owner's marks (release; a missing object needs none). */
  claim(owner: string): Promise<void>;
  release(owner: string): Promise<void>;
  /** All weight to stable and these header routes removed (a Rollout moved off it); a missing object needs none. */
  reset(headerRoutes: readonly string[]): Promise<void>;
  /**
   * Subset-level routing only (Istio DestinationRule): which hash each subset selects, and
   * pointing a subset at a hash. Undefined for routers that route between two Services.
   */
  subsets?: SubsetRouter;
}

export interface SubsetRouter {
  observe(): Promise<{ stable?: string | undefined; canary?: string | undefined }>;
  select(role: Role, hash: string): Promise<void>;
  /** Every label each subset selects by (from the last read). */
  labels(): Promise<{ stable?: ObservedSelector; canary?: ObservedSelector }>;
  /** Removes Aviary's hash label from both subsets, leaving the person's own labels. */
  restore(): Promise<void>;
}

export interface ParentsAcceptance {
  accepted: boolean;
  /** Which parents have not accepted the route, and why, when some have not. */
  message?: string;
}

/** A routing object that is missing or malformed: becomes an InvalidSpec/Degraded condition naming it, never a crash. */
export class RoutingProblem extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.path}: ${problem.message}`);
  }
}

/** Prefix of the header routes Aviary adds, so they are never confused with a person's routes. */
export const MANAGED_ROUTE_PREFIX = "aviary-";
