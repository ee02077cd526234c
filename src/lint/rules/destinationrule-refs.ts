import { asArray, asObject, asString } from "../../traffic/json-patch.ts";
import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";
import { resolveHost, routeLabel } from "../mesh-objects.ts";
import { managedVirtualServices } from "./virtualservice-refs.ts";

/** Subset-level routing: the DestinationRule exists, has both subsets, and is for the host the routes use. */

export function subsetsOf(dr: { object: Record<string, unknown> }) {
  return asArray(asObject(dr.object.spec).subsets).map(asObject);
}

export const destinationRuleMissing: Rule = {
  id: "destinationrule-missing",
  severity: "warning",
  category: "reference",
  title: "the Rollout's DestinationRule is not in the files given",
  reason: "Its subsets and their labels cannot be checked offline.",
  fix: "Lint the DestinationRule with the Rollout (pass both files, or their directory).",
  check(context, report) {
    for (const { entry, facts } of allFacts(context)) {
      const ref = facts.destinationRule;
      if (ref === undefined || context.find("DestinationRule", ref.name, facts.namespace)) continue;
      report({
        at: entry.manifest,
        path: [...ref.path, "name"],
        message: `Rollout ${facts.name} splits traffic by the subsets of DestinationRule ${ref.name}, which is not in the files given`,
      });
    }
  },
};

export const destinationRuleSubsetMissing: Rule = {
  id: "destinationrule-subset-missing",
  severity: "error",
  category: "reference",
  title: "a subset the Rollout names is not in its DestinationRule",
  reason:
    "Istio answers 503 for a route to an undefined subset, and the controller cannot point it at a version.",
  fix: "Add the subset to the DestinationRule (its labels may be empty: Aviary adds the pod-template hash), or fix the subset name in the Rollout.",
  check(context, report) {
    for (const { entry, facts } of allFacts(context)) {
      const ref = facts.destinationRule;
      if (ref === undefined) continue;
      const dr = context.find("DestinationRule", ref.name, facts.namespace);
      if (dr === undefined) continue;
      const names = subsetsOf(dr).flatMap((s) => asString(s.name) ?? []);
      for (const field of ["stableSubset", "canarySubset"] as const) {
        if (names.includes(ref[field])) continue;
        report({
          at: entry.manifest,
          path: [...ref.path, field],
          message: `DestinationRule ${dr.name} has no subset named "${ref[field]}" (it has ${names.join(", ") || "none"})`,
        });
      }
    }
  },
};

export const destinationRuleHostMismatch: Rule = {
  id: "destinationrule-host-mismatch",
  severity: "error",
  category: "reference",
  title: "a route uses the Rollout's subsets on a host other than the DestinationRule's",
  reason: "Subsets are defined per host: on another host they do not exist, and Istio answers 503.",
  fix: "Make the destination's host the DestinationRule's spec.host (the Service both versions sit behind).",
  check(context, report) {
    for (const { facts, vs, routes, indexes } of managedVirtualServices(context)) {
      const ref = facts.destinationRule;
      if (ref === undefined) continue;
      const dr = context.find("DestinationRule", ref.name, facts.namespace);
      const drHost = asString(asObject(dr?.object.spec).host);
      if (dr === undefined || drHost === undefined) continue;
      const wanted = resolveHost(drHost, dr.namespace ?? facts.namespace);
      for (const index of indexes) {
        const route = routes[index] ?? {};
        asArray(route.route).forEach((raw, entryIndex) => {
          const destination = asObject(asObject(raw).destination);
          const subset = asString(destination.subset);
          const host = asString(destination.host) ?? "";
          if (subset !== ref.stableSubset && subset !== ref.canarySubset) return;
          if (resolveHost(host, vs.namespace ?? facts.namespace) === wanted) return;
          report({
            at: vs,
            path: ["spec", "http", index, "route", entryIndex, "destination", "host"],
            message: `${routeLabel(route, index)} of VirtualService ${vs.name} sends subset ${subset} to host ${host}, but DestinationRule ${dr.name} defines it for host ${drHost}`,
          });
        });
      }
    }
  },
};
