import { isDeepStrictEqual } from "node:util";
import type { HeaderMatch } from "../api/rollout.ts";
import type { ObservedRoutes, Role } from "../core/plan.ts";
import { asArray, asObject, asString, pointer, type Json, type JsonPatchOp } from "./json-patch.ts";
import { MANAGED_ROUTE_PREFIX, RoutingProblem, type ParentsAcceptance } from "./router.ts";

/**
 * Pure rules for editing a user's Gateway API HTTPRoute: the weights of the backendRefs of
 * the rules that send traffic to both Services, and Aviary's header rules (named
 * `aviary-*`). Filters, matches and everything else a person wrote are left as they are.
 */
export interface HttpRouteTarget {
  stableService: string;
  canaryService: string;
  namespace: string;
  /** e.g. `spec.strategy.canary`. */
  strategyField: string;
}

/** Defaults the HTTPRoute CRD fills in; written out so a stored header rule compares equal to the wanted one. */
const DEFAULT_PATH_MATCH = { type: "PathPrefix", value: "/" };
const DEFAULT_BACKEND_WEIGHT = 1;
const FULL_WEIGHT = 100;

function rules(route: Json): Json[] {
  return asArray(asObject(route.spec).rules).map(asObject);
}

const isManagedRule = (rule: Json): boolean =>
  asString(rule.name)?.startsWith(MANAGED_ROUTE_PREFIX) ?? false;

export function backendRole(backendRef: Json, target: HttpRouteTarget): Role | undefined {
  const group = asString(backendRef.group) ?? "";
  const kind = asString(backendRef.kind) ?? "Service";
  const namespace = asString(backendRef.namespace) ?? target.namespace;
  if ((group !== "" && group !== "core") || kind !== "Service" || namespace !== target.namespace)
    return undefined;
  if (backendRef.name === target.stableService) return "stable";
  if (backendRef.name === target.canaryService) return "canary";
  return undefined;
}

/** Indexes (into spec.rules) of the rules whose backendRefs include both Services. */
export function weightedRuleIndexes(route: Json, target: HttpRouteTarget): number[] {
  const indexes = rules(route).flatMap((rule, index) => {
    if (isManagedRule(rule)) return [];
    const roles = new Set(
      asArray(rule.backendRefs).map((ref) => backendRole(asObject(ref), target)),
    );
    return roles.has("stable") && roles.has("canary") ? [index] : [];
  });
  for (const index of indexes) checkWeightedRule(route, rules(route)[index] ?? {}, index, target);
  if (indexes.length === 0) {
    const name = asString(asObject(route.metadata).name) ?? "?";
    const field = `${target.strategyField}.trafficRouting.gatewayAPI.httpRoute.name`;
    throw new RoutingProblem({
      path: field,
      message:
        `HTTPRoute ${name} has no rule whose backendRefs include both Service ${target.stableService} and Service ${target.canaryService}; ` +
        `add both to a rule (the canary with weight 0) or fix ${field}.`,
    });
  }
  return indexes;
}

const weightOf = (ref: Json): number =>
  typeof ref.weight === "number" ? ref.weight : DEFAULT_BACKEND_WEIGHT;

/**
 * Each weighted rule has one stable and one canary backend. Other backends are kept with
 * their weight only when the rule's weights are percentages (they add up to 100): Gateway
 * API weights are proportions, so otherwise rewriting stable and canary would change
 * their share.
 */
function checkWeightedRule(route: Json, rule: Json, index: number, target: HttpRouteTarget): void {
  const name = asString(asObject(route.metadata).name) ?? "?";
  const field = `${target.strategyField}.trafficRouting.gatewayAPI.httpRoute.name`;
  const refs = asArray(rule.backendRefs).map(asObject);
  for (const role of ["stable", "canary"] as const) {
    const count = refs.filter((ref) => backendRole(ref, target) === role).length;
    if (count > 1) {
      const service = role === "stable" ? target.stableService : target.canaryService;
      throw new RoutingProblem({
        path: field,
        message: `rule ${index} of HTTPRoute ${name} lists Service ${service} ${count} times; list it once, or Aviary's weights would not add up.`,
      });
    }
  }
  const others = refs.filter((ref) => backendRole(ref, target) === undefined);
  const total = refs.reduce((sum, ref) => sum + weightOf(ref), 0);
  if (others.length > 0 && total !== FULL_WEIGHT)
    throw new RoutingProblem({
      path: field,
      message: `rule ${index} of HTTPRoute ${name} sends traffic to other backends too, and its weights add up to ${total}, not 100: Aviary keeps other backends' share only when the weights are percentages; make them add up to 100, or move the other backends to their own rule.`,
    });
}

function otherWeight(rule: Json, target: HttpRouteTarget): number {
  return asArray(rule.backendRefs)
    .map(asObject)
    .filter((ref) => backendRole(ref, target) === undefined)
    .reduce((sum, ref) => sum + weightOf(ref), 0);
}

export function observeHttpRoute(route: Json, target: HttpRouteTarget): ObservedRoutes {
  const all = rules(route);
  const managed = weightedRuleIndexes(route, target).map((index) => all[index] ?? {});
  const first = managed[0] ?? {};
  let canary = 0;
  let total = 0;
  for (const ref of asArray(first.backendRefs).map(asObject)) {
    const role = backendRole(ref, target);
    if (role === undefined) continue;
    total += weightOf(ref);
    if (role === "canary") canary += weightOf(ref);
  }
  const headerRoutes = all
    .filter(isManagedRule)
    .map((rule) => (asString(rule.name) ?? "").slice(MANAGED_ROUTE_PREFIX.length));
  const fixedWeight = Math.max(0, ...managed.map((rule) => otherWeight(rule, target)));
  if (fixedWeight > 0) {
    // The rule's weights are percentages (checked above): the canary's is its share.
    const to = managed
      .flatMap((rule) => asArray(rule.backendRefs).map(asObject))
      .filter((ref) => backendRole(ref, target) === undefined)
      .map((ref) => `${asString(ref.kind) ?? "Service"} ${asString(ref.name) ?? "?"}`);
    return {
      canaryWeight: canary,
      headerRoutes,
      fixedWeight,
      fixedWeightTo: [...new Set(to)].join(", "),
    };
  }
  // Gateway API weights are proportions; report the canary's share in percent.
  const canaryWeight = total === 0 ? 0 : Math.round((FULL_WEIGHT * canary) / total);
  return { canaryWeight, headerRoutes };
}

export function httpRouteWeightPatch(
  route: Json,
  target: HttpRouteTarget,
  canaryWeight: number,
): JsonPatchOp[] {
  const all = rules(route);
  const ops: JsonPatchOp[] = [];
  for (const index of weightedRuleIndexes(route, target)) {
    const left = FULL_WEIGHT - otherWeight(all[index] ?? {}, target);
    if (canaryWeight > left)
      throw new RoutingProblem({
        path: `${target.strategyField}.trafficRouting.gatewayAPI.httpRoute.name`,
        message: `a canary weight of ${canaryWeight}% does not fit beside the ${FULL_WEIGHT - left}% rule ${index} sends to other backends; lower the step's weight or remove them.`,
      });
    asArray(all[index]?.backendRefs).forEach((raw, refIndex) => {
      const ref = asObject(raw);
      const role = backendRole(ref, target);
      if (role === undefined) return;
      const wanted = role === "canary" ? canaryWeight : left - canaryWeight;
      if (ref.weight === wanted) return;
      const refPath = pointer("spec", "rules", index, "backendRefs", refIndex);
      ops.push(
        { op: "test", path: refPath, value: ref },
        { op: "weight" in ref ? "replace" : "add", path: `${refPath}/weight`, value: wanted },
      );
    });
  }
  return ops;
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Gateway API header matches (all must hold); a prefix becomes an anchored regular expression. */
export function gatewayHeaderMatches(match: readonly HeaderMatch[]): Json[] {
  return match.map((m) => {
    if (m.exact !== undefined) return { type: "Exact", name: m.header, value: m.exact };
    if (m.prefix !== undefined)
      return { type: "RegularExpression", name: m.header, value: `^${escapeRegex(m.prefix)}.*` };
    return { type: "RegularExpression", name: m.header, value: m.regex ?? "" };
  });
}

/** Aviary's header rule: matching requests go to the canary backendRef of the first weighted rule, through its filters. */
export function managedHeaderRule(
  route: Json,
  target: HttpRouteTarget,
  name: string,
  match: readonly HeaderMatch[],
): Json {
  const source = rules(route)[weightedRuleIndexes(route, target)[0] ?? 0] ?? {};
  const canaryRef = asArray(source.backendRefs)
    .map(asObject)
    .find((ref) => backendRole(ref, target) === "canary");
  const rule: Json = {
    name: `${MANAGED_ROUTE_PREFIX}${name}`,
    matches: [{ path: DEFAULT_PATH_MATCH, headers: gatewayHeaderMatches(match) }],
    backendRefs: [{ ...structuredClone(canaryRef ?? {}), weight: DEFAULT_BACKEND_WEIGHT }],
  };
  // A person's filters (header modifiers, rewrites) apply to canary traffic either way.
  if ("filters" in source) rule.filters = structuredClone(source.filters);
  return rule;
}

export function addHeaderRulePatch(
  route: Json,
  target: HttpRouteTarget,
  name: string,
  match: readonly HeaderMatch[],
): JsonPatchOp[] {
  const wanted = managedHeaderRule(route, target, name, match);
  const all = rules(route);
  const index = all.findIndex((rule) => rule.name === wanted.name);
  if (index >= 0) {
    if (isDeepStrictEqual(all[index], wanted)) return [];
    const path = pointer("spec", "rules", index);
    return [
      { op: "test", path, value: all[index] },
      { op: "replace", path, value: wanted },
    ];
  }
  const sourceIndex = weightedRuleIndexes(route, target)[0] ?? 0;
  return [
    { op: "test", path: pointer("spec", "rules", sourceIndex), value: all[sourceIndex] },
    { op: "add", path: pointer("spec", "rules", 0), value: wanted },
  ];
}

export function removeHeaderRulePatch(route: Json, name: string): JsonPatchOp[] {
  const all = rules(route);
  const index = all.findIndex((rule) => rule.name === `${MANAGED_ROUTE_PREFIX}${name}`);
  if (index < 0) return [];
  const path = pointer("spec", "rules", index);
  return [
    { op: "test", path, value: all[index] },
    { op: "remove", path },
  ];
}

/** Every parent in status.parents reports Accepted=True; a route no controller reports on counts as accepted. */
export function parentsAcceptance(route: Json): ParentsAcceptance {
  const pending = asArray(asObject(route.status).parents)
    .map(asObject)
    .flatMap((parent) => {
      const accepted = asArray(parent.conditions)
        .map(asObject)
        .find((condition) => condition.type === "Accepted");
      if (accepted?.status === "True") return [];
      const ref = asObject(parent.parentRef);
      const who = `${asString(ref.kind) ?? "Gateway"} ${asString(ref.name) ?? "?"}`;
      const why =
        asString(accepted?.message) ?? asString(accepted?.reason) ?? "no Accepted condition yet";
      return [`${who}: ${why}`];
    });
  return pending.length === 0
    ? { accepted: true }
    : { accepted: false, message: `not accepted by ${pending.join("; ")}` };
}
