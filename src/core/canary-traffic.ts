import type { CanaryStrategy, Step } from "../api/rollout.ts";
import type { Decision } from "./context.ts";
import { canaryReplicasFor, targetWeight } from "./steps.ts";
import { checkPromotionWindows } from "./windows.ts";
import { select, type ServiceNames } from "./workload.ts";

/**
 * What keeps a canary's traffic safe: what its pods can serve, when its Service may move,
 * what completed steps must keep in place, and what holds stop it from getting more.
 */

/**
 * Level-based: what completed steps set must still be in place. A weight or header route
 * changed by hand (or by Argo CD self-heal) is put back on the next reconcile.
 */
export function reassertCompletedSteps(
  d: Decision,
  steps: readonly Step[],
  index: number,
  canaryAvailable: number,
): void {
  const done = steps.slice(0, index);
  const weight = targetWeight(done, done.length - 1);
  // Never more than the available canary pods can serve (a skipped step, or pods lost since).
  if (done.some((step) => step.setWeight !== undefined))
    d.weight(Math.min(weight, servableWeight(d, canaryAvailable, weight)));
  const routed = d.observed.routes?.headerRoutes ?? [];
  for (const step of done) {
    const route = step.setHeaderRoute;
    if (route !== undefined && !routed.includes(route.name))
      d.act({ kind: "setHeaderRoute", name: route.name, match: route.match });
  }
}

export interface Capacity {
  canarySelected: boolean;
  canaryAvailable: number;
  canaryWanted: number;
  /** A hold that forbids sending the canary more traffic than it has now. */
  hold: string | undefined;
}

/** The highest weight `available` canary pods can serve, up to `weight`. */
export function servableWeight(d: Decision, available: number, weight: number): number {
  const replicas = d.spec.replicas;
  if (available >= canaryReplicasFor(replicas, weight, d.status.canaryScale)) return weight;
  return Math.floor((100 * available) / Math.max(1, replicas));
}

/** Pods the canary needs for the weight the router sends it now. */
export function routedCanaryReplicas(d: Decision, hash: string): number {
  const routes = d.observed.routes;
  if (routes === undefined || d.observed.selectors?.canary !== hash) return 0;
  const routed =
    routes.headerRoutes.length > 0 ? Math.max(routes.canaryWeight, 1) : routes.canaryWeight;
  return routed === 0 ? 0 : canaryReplicasFor(d.spec.replicas, routed, d.status.canaryScale);
}

/**
 * Points the canary Service at `hash`. While it points at another version that still gets
 * traffic (a canary replaced mid-release), that traffic is withdrawn first.
 */
export function selectCanary(d: Decision, services: ServiceNames, hash: string): boolean {
  const current = d.observed.selectors?.canary;
  const routes = d.observed.routes;
  if (
    current !== undefined &&
    current !== hash &&
    current !== d.status.stableHash &&
    routes !== undefined
  ) {
    if (routes.canaryWeight > 0 || routes.headerRoutes.length > 0) {
      d.weight(0);
      for (const name of routes.headerRoutes) d.act({ kind: "removeHeaderRoute", name });
      d.wakeAtMs(d.now + 1_000);
      return false;
    }
  }
  return select(d, services, "canary", hash);
}

/**
 * Holds that stop a step from sending the canary more traffic. Inconclusive analysis does
 * not block the first traffic: a canary that receives none can never produce data. That
 * includes a canary behind header routes that no request carries: the judge has read every
 * metric and found no canary figure.
 */
export function actionHold(
  d: Decision,
  s: CanaryStrategy,
  hold: string | undefined,
): string | undefined {
  if (hold === undefined) return undefined;
  const routes = d.observed.routes;
  const metrics = d.status.analysis?.metrics ?? [];
  const unheard = metrics.length > 0 && metrics.every((m) => m.canary === undefined);
  const hasTraffic =
    routes !== undefined &&
    (routes.canaryWeight > 0 || (routes.headerRoutes.length > 0 && !unheard));
  const byPersonOrClock =
    d.status.manualPause === true || !checkPromotionWindows(s.promotionWindows, d.now).open;
  return byPersonOrClock || hasTraffic ? hold : undefined;
}

/** Why steps may not advance right now, if anything holds them. */
export function holdReason(d: Decision, s: CanaryStrategy): string | undefined {
  const st = d.status;
  if (st.manualPause === true) return "paused by `aviary pause`; `aviary resume` continues";
  if (st.analysis?.verdict === "Inconclusive")
    return `analysis inconclusive: ${st.analysis.message ?? "no data"}`;
  const window = checkPromotionWindows(s.promotionWindows, d.now);
  if (!window.open) {
    d.wakeAtMs(window.opensAt);
    const opens =
      window.opensAt === undefined
        ? ""
        : `; next window opens at ${new Date(window.opensAt).toISOString()}`;
    return `outside the promotion windows${opens}`;
  }
  return undefined;
}
