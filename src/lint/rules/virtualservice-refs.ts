import { asArray, asObject, asString } from "../../traffic/json-patch.ts";
import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";
import {
  appliesToMesh,
  httpRoutesOf,
  isAviaryRoute,
  resolveHost,
  routeLabel,
} from "../mesh-objects.ts";
import type { LintContext } from "../context.ts";

/** The VirtualService a Rollout manages: it exists, has the routes named, and they send traffic to the Rollout's two sides. */

/** The Rollouts with Istio routing whose VirtualService is in the files, with the indexes of the routes Aviary manages. */
export function managedVirtualServices(context: LintContext) {
  return allFacts(context).flatMap(({ entry, facts }) => {
    const ref = facts.virtualService;
    if (ref === undefined) return [];
    const vs = context.find("VirtualService", ref.name, facts.namespace);
    if (vs === undefined) return [];
    const routes = httpRoutesOf(vs);
    const indexes =
      ref.routes === undefined || ref.routes.length === 0
        ? routes.flatMap((route, index) => (isAviaryRoute(route) ? [] : [index]))
        : ref.routes.flatMap((name) => {
            const index = routes.findIndex((route) => route.name === name);
            return index < 0 ? [] : [index];
          });
    return [{ entry, facts, ref, vs, routes, indexes }];
  });
}

export const virtualServiceMissing: Rule = {
  id: "virtualservice-missing",
  severity: "warning",
  category: "reference",
  title: "the Rollout's VirtualService is not in the files given",
  reason:
    "Its routes, destinations and practices cannot be checked; the controller reports it missing if it is not in the cluster either.",
  fix: "Lint the VirtualService with the Rollout (pass both files, or their directory).",
  check(context, report) {
    for (const { entry, facts } of allFacts(context)) {
      const ref = facts.virtualService;
      if (ref === undefined || context.find("VirtualService", ref.name, facts.namespace)) continue;
      report({
        at: entry.manifest,
        path: [...ref.path, "name"],
        message: `Rollout ${facts.name} routes through VirtualService ${ref.name}, which is not in the files given`,
      });
    }
  },
};

export const virtualServiceRouteMissing: Rule = {
  id: "virtualservice-route-missing",
  severity: "error",
  category: "reference",
  title: "a route the Rollout manages is not in its VirtualService",
  reason:
    "The controller cannot set weights on a route that does not exist, so the release stops before any traffic moves.",
  fix: "Name the VirtualService's http route as the Rollout's virtualService.routes list says, or fix the list.",
  check(context, report) {
    for (const { entry, facts, ref, vs, routes } of managedVirtualServices(context)) {
      const names = routes.flatMap((route) => asString(route.name) ?? []);
      const have = names.length === 0 ? "no named route" : `routes ${names.join(", ")}`;
      if (ref.routes === undefined || ref.routes.length === 0) {
        const own = routes.filter((route) => !isAviaryRoute(route)).length;
        if (own !== 1)
          report({
            at: entry.manifest,
            path: [...ref.path, "name"],
            message: `VirtualService ${vs.name} has ${own} http routes and Rollout ${facts.name} names none of them`,
            fix: `List the routes whose weights Aviary manages in ${ref.path.join(".")}.routes.`,
          });
        continue;
      }
      ref.routes.forEach((name, index) => {
        if (routes.some((route) => route.name === name)) return;
        report({
          at: entry.manifest,
          path: [...ref.path, "routes", index],
          message: `VirtualService ${vs.name} has no http route named "${name}" (it has ${have})`,
        });
      });
    }
  },
};

export const virtualServiceDestinationMissing: Rule = {
  id: "virtualservice-destination-missing",
  severity: "error",
  category: "reference",
  title: "a managed route has no destination for the stable or the canary",
  reason:
    "Aviary moves weight between the two destinations; without one of them there is nothing to move traffic to.",
  fix: "Add a destination for the missing side (the canary with weight 0), naming its Service (or subset).",
  check(context, report) {
    for (const { facts, vs, routes, indexes } of managedVirtualServices(context)) {
      const target = facts.virtualService?.target;
      if (target === undefined) continue;
      for (const index of indexes) {
        const route = routes[index] ?? {};
        const roles = new Set(
          asArray(route.route).map((d) => target.roleOf(asObject(asObject(d).destination))),
        );
        for (const role of ["stable", "canary"] as const) {
          if (roles.has(role)) continue;
          report({
            at: vs,
            path: ["spec", "http", index, "route"],
            message: `${routeLabel(route, index)} of VirtualService ${vs.name} has no destination for ${target.sides[role].label} (Rollout ${facts.name})`,
          });
        }
      }
    }
  },
};

export const virtualServiceDestinationUnknown: Rule = {
  id: "virtualservice-destination-unknown",
  severity: "error",
  category: "reference",
  title: "a managed route sends traffic to a destination that is neither the stable nor the canary",
  reason:
    "Aviary sets the canary's weight and gives stable the rest; a third destination keeps a weight nobody manages, so the split is not what the steps say.",
  fix: "Route the managed route to the Rollout's stable and canary Services (or subsets) only; move other destinations to a route of their own.",
  check(context, report) {
    for (const { facts, vs, routes, indexes } of managedVirtualServices(context)) {
      const target = facts.virtualService?.target;
      if (target === undefined) continue;
      for (const index of indexes) {
        const route = routes[index] ?? {};
        asArray(route.route).forEach((raw, entryIndex) => {
          const destination = asObject(asObject(raw).destination);
          if (target.roleOf(destination) !== undefined) return;
          const subset = asString(destination.subset);
          const what = `${asString(destination.host) ?? "(no host)"}${subset === undefined ? "" : ` subset ${subset}`}`;
          report({
            at: vs,
            path: ["spec", "http", index, "route", entryIndex, "destination"],
            message: `${routeLabel(route, index)} of VirtualService ${vs.name} sends traffic to ${what}, which is neither ${target.sides.stable.label} nor ${target.sides.canary.label} of Rollout ${facts.name}`,
          });
        });
      }
    }
  },
};

export const virtualServiceHostUnknown: Rule = {
  id: "virtualservice-host-unknown",
  severity: "warning",
  category: "reference",
  title: "a VirtualService applied to the mesh names no Service in its hosts",
  reason:
    "Sidecars apply a VirtualService to requests for its hosts; when no host is a Service clients call, the weights are never used.",
  fix: "Put the Service clients call (for example the Rollout's apex Service) in hosts, and lint its Service with it.",
  check(context, report) {
    for (const { facts, vs } of managedVirtualServices(context)) {
      if (!appliesToMesh(vs)) continue;
      const hosts = asArray(asObject(vs.object.spec).hosts).flatMap((h) => asString(h) ?? []);
      const services = new Set([
        ...context
          .objects("Service", vs.namespace)
          .map((s) => resolveHost(s.name, s.namespace ?? vs.namespace)),
        ...facts.services.map((s) => resolveHost(s.name, facts.namespace)),
      ]);
      if (hosts.some((host) => host === "*" || services.has(resolveHost(host, vs.namespace))))
        continue;
      report({
        at: vs,
        path: ["spec", "hosts"],
        message: `VirtualService ${vs.name} applies to the mesh but its hosts (${hosts.join(", ") || "none"}) name no Service in the files`,
      });
    }
  },
};
