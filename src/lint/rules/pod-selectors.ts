import { describeLabels, unmatchedLabels } from "../../core/pod-selection.ts";
import { asObject, asString } from "../../traffic/json-patch.ts";
import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";
import { subsetsOf } from "./destinationrule-refs.ts";

/**
 * Every selector Aviary narrows to one version must be able to match the Rollout's pods:
 * Aviary adds its hash label to it, and any other label it asks for must be on the pod
 * template, or the narrowed selector matches nothing (503s with a real mesh).
 */
export const selectorUnmatched: Rule = {
  id: "selector-unmatched",
  severity: "error",
  category: "reference",
  title:
    "a Service selector or DestinationRule subset asks for labels the Rollout's pods do not carry",
  reason:
    "Aviary adds the pod-template hash to the selector; the other labels must already be on the pods, or the selector matches no pod and every request to it fails (503).",
  fix: "Drop the label (Aviary adds the pod-template hash) or add it to the Rollout's pod template.",
  check(context, report) {
    for (const { facts } of allFacts(context)) {
      const pod = facts.pod;
      if (pod === undefined) continue;
      for (const ref of facts.services) {
        const service = context.find("Service", ref.name, facts.namespace);
        if (service === undefined) continue;
        const selector = asObject(asObject(service.object.spec).selector);
        const unmatched = unmatchedLabels(selector, pod.labels);
        const first = unmatched[0];
        if (first === undefined) continue;
        const routed =
          facts.httpRoute === undefined ? "" : ` (a backend of HTTPRoute ${facts.httpRoute.name})`;
        report({
          at: service,
          path: ["spec", "selector", first.key],
          message: `Service ${service.name}${routed} selects ${describeLabels(unmatched)}, which the pods of Rollout ${facts.name} do not carry`,
        });
      }
      const ref = facts.destinationRule;
      if (ref === undefined) continue;
      const dr = context.find("DestinationRule", ref.name, facts.namespace);
      if (dr === undefined) continue;
      subsetsOf(dr).forEach((subset, index) => {
        const name = asString(subset.name);
        if (name !== ref.stableSubset && name !== ref.canarySubset) return;
        const unmatched = unmatchedLabels(asObject(subset.labels), pod.labels);
        const first = unmatched[0];
        if (first === undefined) return;
        report({
          at: dr,
          path: ["spec", "subsets", index, "labels", first.key],
          message: `subset ${name} of DestinationRule ${dr.name} selects ${describeLabels(unmatched)}, which the pods of Rollout ${facts.name} do not carry`,
        });
      });
    }
  },
};
