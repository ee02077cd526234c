import { isDeepStrictEqual } from "node:util";
import type { HeaderMatch } from "../api/rollout.ts";
import type { ObservedRoutes, Role } from "../core/plan.ts";
import { asArray, asObject, asString, pointer, type Json, type JsonPatchOp } from "./json-patch.ts";
import { MANAGED_ROUTE_PREFIX, RoutingProblem } from "./router.ts";

/**
 * Pure rules for editing a user's Istio VirtualService: which http routes Aviary manages,
 * the guarded JSON Patch that sets their weights, and Aviary's header routes. Only the
 * weights of the managed routes and routes named `aviary-*` are ever touched.
 */
export interface VirtualServiceTarget {
  /** Names of the http routes whose weights Aviary manages; undefined: the only http route. */
  routes?: readonly string[] | undefined;
  /** Which side a route destination sends traffic to (by Service host, or by subset). */
  roleOf(destination: Json): Role | undefined;
  /** The Rollout field naming the VirtualService, e.g. `spec.strategy.canary.trafficRouting.istio.virtualService`. */
  field: string;
  /** How to name each side in a message, and the field that chooses it. */
  sides: Record<Role, { label: string; field: string }>;
}

const ISTIO_FULL_WEIGHT = 100;

/** Does an Istio host (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`) name this Service? */
export function hostNamesService(host: string, service: string, namespace: string): boolean {
  const [name, hostNamespace, ...rest] = host.split(".");
  if (name !== service) return false;
  if (hostNamespace === undefined) return true;
  if (hostNamespace !== namespace) return false;
  return rest.length === 0 || rest[0] === "svc";
}

function httpRoutes(vs: Json): Json[] {
  return asArray(asObject(vs.spec).http).map(asObject);
}

const isManagedHeaderRoute = (route: Json): boolean =>
  asString(route.name)?.startsWith(MANAGED_ROUTE_PREFIX) ?? false;

/** Indexes (into spec.http) of the routes whose weights Aviary sets. */
export function weightedRouteIndexes(vs: Json, target: VirtualServiceTarget): number[] {
  const routes = httpRoutes(vs);
  const name = asString(asObject(vs.metadata).name) ?? "?";
  const routesField = `${target.field}.routes`;
  let indexes: number[];
  if (target.routes === undefined || target.routes.length === 0) {
    indexes = routes.flatMap((route, index) => (isManagedHeaderRoute(route) ? [] : [index]));
    if (indexes.length !== 1)
      throw new RoutingProblem({
        path: routesField,
        message: `VirtualService ${name} has ${indexes.length} http routes; list the ones whose weights Aviary should manage in ${routesField}.`,
      });
  } else {
    indexes = target.routes.map((wanted) => {
      const index = routes.findIndex((route) => route.name === wanted);
      if (index < 0)
        throw new RoutingProblem({
          path: routesField,
          message: `VirtualService ${name} has no http route named "${wanted}"; give the route that name or fix ${routesField}.`,
        });
      return index;
    });
  }
  for (const index of indexes) {
    const route = routes[index] ?? {};
    const roles = asArray(route.route).map((entry) =>
      target.roleOf(asObject(asObject(entry).destination)),
    );
    const which =
      asString(route.name) !== undefined
        ? `http route "${asString(route.name) ?? ""}"`
        : "the http route";
    for (const role of ["stable", "canary"] as const) {
      const count = roles.filter((r) => r === role).length;
      if (count === 1) continue;
      const { label, field } = target.sides[role];
      throw new RoutingProblem({
        path: field,
        message:
          count === 0
            ? `${which} of VirtualService ${name} has no destination for ${label}; add one (it may have weight 0) or fix ${field}.`
            : `${which} of VirtualService ${name} lists ${label} ${count} times; list it once, or Aviary's weights would not add up (each entry would get the canary's weight).`,
      });
    }
  }
  return indexes;
}

/** Weight a managed route sends to destinations that are neither stable nor canary (kept as the person set it). */
function otherWeight(route: Json, target: VirtualServiceTarget): number {
  const entries = asArray(route.route).map(asObject);
  return entries
    .filter((entry) => target.roleOf(asObject(entry.destination)) === undefined)
    .reduce((sum, entry) => sum + weightOf(entry, entries.length), 0);
}

function otherHosts(route: Json, target: VirtualServiceTarget): string[] {
  return asArray(route.route)
    .map(asObject)
    .filter((entry) => target.roleOf(asObject(entry.destination)) === undefined)
    .map((entry) => {
      const destination = asObject(entry.destination);
      const subset = asString(destination.subset);
      return `${asString(destination.host) ?? "?"}${subset === undefined ? "" : ` subset ${subset}`}`;
    });
}

/** Istio: a destination without a weight takes all traffic when it is alone, none otherwise. */
function weightOf(entry: Json, entries: number): number {
  if (typeof entry.weight === "number") return entry.weight;
  return entries === 1 ? ISTIO_FULL_WEIGHT : 0;
}

export function observeVirtualService(vs: Json, target: VirtualServiceTarget): ObservedRoutes {
  const routes = httpRoutes(vs);
  const managed = weightedRouteIndexes(vs, target).map((index) => routes[index] ?? {});
  const first = managed[0] ?? {};
  const entries = asArray(first.route).map(asObject);
  const canaryWeight = entries
    .filter((entry) => target.roleOf(asObject(entry.destination)) === "canary")
    .reduce((sum, entry) => sum + weightOf(entry, entries.length), 0);
  const headerRoutes = routes
    .filter(isManagedHeaderRoute)
    .map((route) => (asString(route.name) ?? "").slice(MANAGED_ROUTE_PREFIX.length));
  const fixedWeight = Math.max(0, ...managed.map((route) => otherWeight(route, target)));
  if (fixedWeight === 0) return { canaryWeight, headerRoutes };
  const to = [...new Set(managed.flatMap((route) => otherHosts(route, target)))].join(", ");
  return { canaryWeight, headerRoutes, fixedWeight, fixedWeightTo: to };
}

/** The patch that gives canary destinations `canaryWeight` and stable ones the rest; empty when already so. */
export function virtualServiceWeightPatch(
  vs: Json,
  target: VirtualServiceTarget,
  canaryWeight: number,
): JsonPatchOp[] {
  const routes = httpRoutes(vs);
  const ops: JsonPatchOp[] = [];
  for (const index of weightedRouteIndexes(vs, target)) {
    const route = routes[index] ?? {};
    const routeOps: JsonPatchOp[] = [];
    // Other destinations keep their weight; stable takes what canary and they leave.
    const left = ISTIO_FULL_WEIGHT - otherWeight(route, target);
    if (canaryWeight > left)
      throw new RoutingProblem({
        path: `${target.field}.routes`,
        message: `a canary weight of ${canaryWeight}% does not fit beside the ${ISTIO_FULL_WEIGHT - left}% this route sends to other destinations; lower the step's weight or remove them.`,
      });
    asArray(route.route).forEach((raw, entryIndex) => {
      const entry = asObject(raw);
      const role = target.roleOf(asObject(entry.destination));
      if (role === undefined) return;
      const wanted = role === "canary" ? canaryWeight : left - canaryWeight;
      if (entry.weight === wanted) return;
      const entryPath = pointer("spec", "http", index, "route", entryIndex);
      routeOps.push(
        { op: "test", path: entryPath, value: entry },
        { op: "weight" in entry ? "replace" : "add", path: `${entryPath}/weight`, value: wanted },
      );
    });
    // The route's name pins the index: a route inserted above by someone else fails the test.
    if (routeOps.length > 0 && "name" in route)
      ops.push({ op: "test", path: pointer("spec", "http", index, "name"), value: route.name });
    ops.push(...routeOps);
  }
  return ops;
}

/**
 * Istio header match: header names are lower-case keys; all of them must hold. With the
 * weighted route's own match conditions (any of them, each with the headers added), the
 * header route only takes requests that route would have taken.
 */
export function istioHeaderMatch(
  match: readonly HeaderMatch[],
  within: readonly Json[] = [],
): Json[] {
  const headers: Json = {};
  for (const m of match) {
    const condition =
      m.exact !== undefined
        ? { exact: m.exact }
        : m.prefix !== undefined
          ? { prefix: m.prefix }
          : { regex: m.regex ?? "" };
    headers[m.header.toLowerCase()] = condition;
  }
  if (within.length === 0) return [{ headers }];
  return within.map((condition) => ({
    ...structuredClone(condition),
    headers: { ...asObject(condition.headers), ...headers },
  }));
}

/** What a route says about where requests go; everything else (timeout, retries, rewrite...) is policy. */
const WHERE_FIELDS = new Set(["name", "match", "route", "redirect", "directResponse", "delegate"]);

/**
 * Aviary's header route: matching requests go to the canary destination of the first
 * weighted route, under that route's own policy (timeout, retries, rewrites, headers),
 * so beta traffic is never without the timeout the person set.
 */
export function managedHeaderRoute(
  vs: Json,
  target: VirtualServiceTarget,
  name: string,
  match: readonly HeaderMatch[],
): Json {
  const first = httpRoutes(vs)[weightedRouteIndexes(vs, target)[0] ?? 0] ?? {};
  const canary = asArray(first.route)
    .map(asObject)
    .find((entry) => target.roleOf(asObject(entry.destination)) === "canary");
  const policy = Object.fromEntries(
    Object.entries(structuredClone(first)).filter(([key]) => !WHERE_FIELDS.has(key)),
  );
  return {
    name: `${MANAGED_ROUTE_PREFIX}${name}`,
    match: istioHeaderMatch(match, asArray(first.match).map(asObject)),
    route: [{ destination: structuredClone(asObject(canary?.destination)) }],
    ...policy,
  };
}

/** Puts Aviary's header route at the top (or updates it in place); empty when it is already there as wanted. */
export function addHeaderRoutePatch(
  vs: Json,
  target: VirtualServiceTarget,
  name: string,
  match: readonly HeaderMatch[],
): JsonPatchOp[] {
  const wanted = managedHeaderRoute(vs, target, name, match);
  const routes = httpRoutes(vs);
  const index = routes.findIndex((route) => route.name === wanted.name);
  if (index >= 0) {
    const existing = routes[index];
    if (isDeepStrictEqual(existing, wanted)) return [];
    const path = pointer("spec", "http", index);
    return [
      { op: "test", path, value: existing },
      { op: "replace", path, value: wanted },
    ];
  }
  // Guard the weighted route the destination was copied from.
  const sourceIndex = weightedRouteIndexes(vs, target)[0] ?? 0;
  return [
    { op: "test", path: pointer("spec", "http", sourceIndex), value: routes[sourceIndex] },
    { op: "add", path: pointer("spec", "http", 0), value: wanted },
  ];
}

export function removeHeaderRoutePatch(vs: Json, name: string): JsonPatchOp[] {
  const routes = httpRoutes(vs);
  const index = routes.findIndex((route) => route.name === `${MANAGED_ROUTE_PREFIX}${name}`);
  if (index < 0) return [];
  const path = pointer("spec", "http", index);
  return [
    { op: "test", path, value: routes[index] },
    { op: "remove", path },
  ];
}
