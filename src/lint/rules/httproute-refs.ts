import { asArray, asObject } from "../../traffic/json-patch.ts";
import { backendRole } from "../../traffic/httproute-patch.ts";
import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";
import type { LintContext } from "../context.ts";

/** Gateway API routing: the HTTPRoute exists and one of its rules has both Services as backends, each with a weight. */

function managedHttpRoutes(context: LintContext) {
  return allFacts(context).flatMap(({ entry, facts }) => {
    const ref = facts.httpRoute;
    if (ref === undefined) return [];
    const route = context.find("HTTPRoute", ref.name, facts.namespace);
    const stable = facts.services.find((s) => s.role === "stable");
    const canary = facts.services.find((s) => s.role === "canary");
    const target = {
      stableService: stable?.name ?? "",
      canaryService: canary?.name ?? "",
      namespace: route?.namespace ?? facts.namespace ?? "default",
      strategyField: facts.strategyPath.join("."),
    };
    const rules = asArray(asObject(route?.object.spec).rules).map(asObject);
    const both = rules.flatMap((rule, index) => {
      const roles = new Set(
        asArray(rule.backendRefs).map((ref) => backendRole(asObject(ref), target)),
      );
      return roles.has("stable") && roles.has("canary") ? [index] : [];
    });
    return [{ entry, facts, ref, route, target, rules, both }];
  });
}

export const httpRouteMissing: Rule = {
  id: "httproute-missing",
  severity: "warning",
  category: "reference",
  title: "the Rollout's HTTPRoute is not in the files given",
  reason: "Its backends and weights cannot be checked offline.",
  fix: "Lint the HTTPRoute with the Rollout (pass both files, or their directory).",
  check(context, report) {
    for (const { entry, facts, ref, route } of managedHttpRoutes(context)) {
      if (route !== undefined) continue;
      report({
        at: entry.manifest,
        path: ref.path,
        message: `Rollout ${facts.name} routes through HTTPRoute ${ref.name}, which is not in the files given`,
      });
    }
  },
};

export const httpRouteBackendsMissing: Rule = {
  id: "httproute-backends-missing",
  severity: "error",
  category: "reference",
  title: "no rule of the HTTPRoute has both the stable and the canary Service as backends",
  reason:
    "Aviary moves weight between the two backendRefs of a rule; without both there is nothing to move.",
  fix: "Add both Services to the rule's backendRefs (the canary with weight 0).",
  check(context, report) {
    for (const { facts, route, target, both } of managedHttpRoutes(context)) {
      if (route === undefined || both.length > 0) continue;
      report({
        at: route,
        path: ["spec", "rules"],
        message: `HTTPRoute ${route.name} has no rule whose backendRefs include both Service ${target.stableService} and Service ${target.canaryService} (Rollout ${facts.name})`,
      });
    }
  },
};

export const httpRouteWeightMissing: Rule = {
  id: "httproute-weight-missing",
  severity: "error",
  category: "reference",
  title: "a backend of the managed HTTPRoute rule has no weight",
  reason:
    "Without a weight a backend takes the default share (1), so the split before Aviary's first write is not 100/0.",
  fix: "Write the weights out: 100 on the stable backend and 0 on the canary.",
  check(context, report) {
    for (const { route, target, rules, both } of managedHttpRoutes(context)) {
      if (route === undefined) continue;
      for (const index of both)
        asArray(rules[index]?.backendRefs).forEach((raw, refIndex) => {
          const ref = asObject(raw);
          if (backendRole(ref, target) === undefined || typeof ref.weight === "number") return;
          report({
            at: route,
            path: ["spec", "rules", index, "backendRefs", refIndex],
            message: `HTTPRoute ${route.name} rule ${index + 1}: backend ${String(ref.name)} has no weight`,
          });
        });
    }
  },
};
