import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";
import { groupOf } from "../context.ts";
import { linkerdInjection } from "./injection.ts";

/** Linkerd splits traffic by HTTPRoute only in its proxies: pods without `linkerd.io/inject` are not in the mesh. */
export const linkerdInjectMissing: Rule = {
  id: "linkerd-inject-missing",
  severity: "warning",
  category: "practice",
  title: "a Linkerd HTTPRoute canary in a namespace or workload without linkerd.io/inject",
  reason:
    "Without the Linkerd proxy the HTTPRoute's weights are never applied and no metrics exist, so analysis sees no traffic and the release holds.",
  fix: "Annotate the Namespace (or the Rollout's pod template) with linkerd.io/inject: enabled.",
  check(context, report) {
    for (const { entry, facts } of allFacts(context)) {
      const ref = facts.httpRoute;
      if (ref === undefined) continue;
      const route = context.find("HTTPRoute", ref.name, facts.namespace);
      const linkerd =
        facts.linkerd || (route !== undefined && groupOf(route.apiVersion) === "policy.linkerd.io");
      if (!linkerd) continue;
      const injection = linkerdInjection(context, facts);
      if (injection === "yes") continue;
      report({
        at: entry.manifest,
        path:
          injection === "no" || entry.rollout.spec.template === undefined
            ? ref.path
            : ["spec", "template", "metadata"],
        message: `Rollout ${facts.name} is a Linkerd canary through HTTPRoute ${ref.name}, but ${injection === "no" ? "linkerd.io/inject is disabled for its pods" : `neither Namespace ${facts.namespace ?? "default"} nor its pod template has linkerd.io/inject in the files`}`,
      });
    }
  },
};
