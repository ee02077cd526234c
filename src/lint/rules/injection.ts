import { asObject, asString } from "../../traffic/json-patch.ts";
import type { LintContext } from "../context.ts";
import type { RolloutFacts } from "../rollout-facts.ts";

/**
 * Whether the files show a mesh proxy injected into a Rollout's pods: by the Namespace's
 * label or annotation, or the pod template's. "no" when one of them turns it off,
 * "unknown" when nothing in the files says.
 */
export type Injection = "yes" | "no" | "unknown";

export function istioInjection(context: LintContext, facts: RolloutFacts): Injection {
  const pod = facts.pod;
  const podSetting =
    asString(pod?.labels["sidecar.istio.io/inject"]) ??
    asString(pod?.annotations["sidecar.istio.io/inject"]);
  if (podSetting !== undefined) return podSetting === "true" ? "yes" : "no";
  const labels = namespaceMeta(context, facts.namespace, "labels");
  if (labels === undefined) return "unknown";
  if (labels["istio-injection"] === "enabled" || labels["istio.io/rev"] !== undefined) return "yes";
  return "no";
}

export function linkerdInjection(context: LintContext, facts: RolloutFacts): Injection {
  const podSetting = asString(facts.pod?.annotations["linkerd.io/inject"]);
  if (podSetting !== undefined) return podSetting === "disabled" ? "no" : "yes";
  const annotations = namespaceMeta(context, facts.namespace, "annotations");
  if (annotations === undefined) return "unknown";
  const setting = asString(annotations["linkerd.io/inject"]);
  return setting !== undefined && setting !== "disabled" ? "yes" : "no";
}

function namespaceMeta(
  context: LintContext,
  namespace: string | undefined,
  key: "labels" | "annotations",
): Record<string, unknown> | undefined {
  if (namespace === undefined) return undefined;
  const object = context.find("Namespace", namespace, undefined);
  return object === undefined ? undefined : asObject(asObject(object.object.metadata)[key]);
}
