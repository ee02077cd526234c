import { asObject, asString } from "../../traffic/json-patch.ts";
import type { Rule } from "../rule.ts";
import { allFacts } from "../rollout-facts.ts";
import { sameNamespace } from "../manifests.ts";
import { istioInjection } from "./injection.ts";

/** STRICT mutual TLS refuses every plaintext client: the pods it covers must have a sidecar to speak mTLS. */
export const mtlsStrictWithoutSidecar: Rule = {
  id: "mtls-strict-without-sidecar",
  severity: "warning",
  category: "practice",
  title: "STRICT PeerAuthentication where the Rollout's pods get no sidecar",
  reason:
    "Pods without an Istio sidecar cannot terminate mTLS, so under STRICT every call to them fails; the files show no injection for them (Namespace label istio-injection or istio.io/rev, or pod label sidecar.istio.io/inject).",
  fix: "Start with mode PERMISSIVE, turn on sidecar injection (label the Namespace istio-injection=enabled), check that every client has a sidecar, then switch to STRICT.",
  check(context, report) {
    const rollouts = allFacts(context);
    for (const pa of context.objects("PeerAuthentication")) {
      const spec = asObject(pa.object.spec);
      if (asString(asObject(spec.mtls).mode) !== "STRICT") continue;
      const selector = asObject(asObject(spec.selector).matchLabels);
      for (const { facts } of rollouts) {
        if (!sameNamespace(pa.namespace, facts.namespace)) continue;
        const labels = facts.pod?.labels ?? {};
        if (Object.entries(selector).some(([key, value]) => labels[key] !== value)) continue;
        const injection = istioInjection(context, facts);
        if (injection === "yes") continue;
        const why =
          injection === "no"
            ? `Namespace ${facts.namespace ?? pa.namespace ?? "default"} and the pod template do not turn sidecar injection on`
            : "nothing in the files turns sidecar injection on for them";
        report({
          at: pa,
          path: ["spec", "mtls", "mode"],
          message: `PeerAuthentication ${pa.name} requires STRICT mTLS for the pods of Rollout ${facts.name} in namespace ${facts.namespace ?? pa.namespace ?? "default"}, but ${why}`,
        });
      }
    }
  },
};
