import { asArray, asObject, asString, type Json } from "../../traffic/json-patch.ts";
import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";
import { resolveHost } from "../mesh-objects.ts";

/**
 * The canary's host should have a circuit breaker: outlierDetection ejects a pod that keeps
 * failing, and connectionPool caps what a slow canary can hold, so one bad pod cannot take
 * its callers down before analysis rolls it back.
 */
export const circuitBreakerMissing: Rule = {
  id: "circuit-breaker-missing",
  severity: "warning",
  category: "practice",
  title: "no outlierDetection or no connectionPool on the canary's host",
  reason:
    "Without outlier detection a failing canary pod keeps its share of requests, and without a connection pool a slow one ties up every caller's connections.",
  fix: "Give the canary's host a DestinationRule whose trafficPolicy sets connectionPool (limits on connections and pending requests) and outlierDetection (consecutive5xxErrors, interval, baseEjectionTime).",
  check(context, report) {
    for (const { entry, facts } of allFacts(context)) {
      if (facts.virtualService === undefined) continue;
      const canary = facts.services.find((s) => s.role === "canary");
      const ref = facts.destinationRule;
      const dr =
        ref === undefined
          ? context
              .objects("DestinationRule", facts.namespace)
              .find(
                (d) =>
                  resolveHost(asString(asObject(d.object.spec).host) ?? "", d.namespace) ===
                  resolveHost(canary?.name ?? "", facts.namespace),
              )
          : context.find("DestinationRule", ref.name, facts.namespace);
      if (dr === undefined) {
        if (ref !== undefined) continue; // destinationrule-missing says so.
        report({
          at: entry.manifest,
          path: canary?.path ?? facts.strategyPath,
          message: `no DestinationRule in the files sets a circuit breaker for the canary's host ${canary?.name ?? "?"} (Rollout ${facts.name})`,
        });
        continue;
      }
      const spec = asObject(dr.object.spec);
      const subset = asArray(spec.subsets)
        .map(asObject)
        .find((s) => ref !== undefined && s.name === ref.canarySubset);
      const policies: Json[] = [asObject(spec.trafficPolicy), asObject(subset?.trafficPolicy)];
      const missing = ["outlierDetection", "connectionPool"].filter(
        (key) => !policies.some((policy) => policy[key] !== undefined),
      );
      if (missing.length === 0) continue;
      report({
        at: dr,
        path: ["spec", "trafficPolicy"],
        message: `DestinationRule ${dr.name} (the canary's host of Rollout ${facts.name}) sets no ${missing.join(" and no ")}`,
      });
    }
  },
};
