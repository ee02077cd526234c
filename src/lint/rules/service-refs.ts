import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";

export const serviceMissing: Rule = {
  id: "service-missing",
  severity: "warning",
  category: "reference",
  title: "a Service the Rollout names is not in the files given",
  reason:
    "Aviary narrows the Service's selector to one version; a missing Service stops the release, and its selector cannot be checked offline.",
  fix: "Lint the Service with the Rollout (pass both files, or their directory), or fix the name.",
  check(context, report) {
    for (const { entry, facts } of allFacts(context))
      for (const service of facts.services) {
        if (context.find("Service", service.name, facts.namespace)) continue;
        report({
          at: entry.manifest,
          path: service.path,
          message: `Rollout ${facts.name} names Service ${service.name}, which is not in the files given`,
        });
      }
  },
};
