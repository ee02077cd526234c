import type { Rollout } from "../api/rollout.ts";
import type { Role } from "../core/plan.ts";
import { templateLabels } from "../core/pod-selection.ts";
import { subsetLevelTarget } from "../traffic/istio-destinationrule.ts";
import { hostLevelTarget } from "../traffic/istio-virtualservice.ts";
import { asObject, type Json } from "../traffic/json-patch.ts";
import type { VirtualServiceTarget } from "../traffic/virtualservice-patch.ts";
import type { LintContext, RolloutManifest } from "./context.ts";
import type { FieldPath } from "./manifests.ts";

/**
 * What a Rollout asks of the objects beside it, read the way the controller reads it
 * (the same role rules as src/traffic), with the paths of the fields that say so.
 */
export interface ServiceRef {
  role: Role;
  name: string;
  path: FieldPath;
}

export interface RolloutFacts {
  name: string;
  namespace: string | undefined;
  strategyPath: FieldPath;
  services: ServiceRef[];
  virtualService?: {
    name: string;
    routes: readonly string[] | undefined;
    path: FieldPath;
    target: VirtualServiceTarget;
  };
  destinationRule?: { name: string; stableSubset: string; canarySubset: string; path: FieldPath };
  httpRoute?: { name: string; path: FieldPath };
  /** The pods' labels and annotations, or undefined when they live in a Deployment not in the files. */
  pod?: { labels: Record<string, unknown>; annotations: Record<string, unknown> };
  /** Linkerd serves this Rollout's traffic (analysis reads Linkerd's metrics). */
  linkerd: boolean;
}

export function factsOf(entry: RolloutManifest, context: LintContext): RolloutFacts {
  const { rollout } = entry;
  const namespace = rollout.metadata.namespace;
  const { canary, blueGreen } = rollout.spec.strategy;
  const strategyKey = canary !== undefined ? "canary" : "blueGreen";
  const strategyPath = ["spec", "strategy", strategyKey] as const;
  const [stable, preview, stableField, canaryField] =
    canary !== undefined
      ? [canary.stableService, canary.canaryService, "stableService", "canaryService"]
      : [
          blueGreen?.activeService ?? "",
          blueGreen?.previewService ?? "",
          "activeService",
          "previewService",
        ];
  // Subset-level routing may name no Services: the DestinationRule's host is the one.
  const services: ServiceRef[] = [
    { role: "stable" as const, name: stable, path: [...strategyPath, stableField] },
    { role: "canary" as const, name: preview, path: [...strategyPath, canaryField] },
  ].flatMap((ref) => (ref.name === undefined ? [] : [{ ...ref, name: ref.name }]));
  const routing = canary?.trafficRouting ?? blueGreen?.trafficRouting;
  const analysis = canary?.analysis ?? blueGreen?.prePromotionAnalysis;
  const facts: RolloutFacts = {
    name: rollout.metadata.name,
    namespace,
    strategyPath,
    services,
    linkerd: analysis?.mesh === "linkerd" || analysis?.metricsFrom === "linkerd",
  };
  const pod = podOf(rollout, context);
  if (pod !== undefined) facts.pod = pod;
  const routingPath = [...strategyPath, "trafficRouting"];
  const istio = routing?.istio;
  if (istio !== undefined) {
    const vsPath = [...routingPath, "istio", "virtualService"];
    const strategyField = `spec.strategy.${strategyKey}`;
    const dr = istio.destinationRule;
    const target =
      dr !== undefined
        ? subsetLevelTarget(istio.virtualService, dr, strategyField)
        : hostLevelTarget(
            istio.virtualService,
            {
              stable: stable ?? "",
              canary: preview ?? "",
              strategyField,
              stableField,
              canaryField,
            },
            namespace ?? "default",
          );
    facts.virtualService = {
      name: istio.virtualService.name,
      routes: istio.virtualService.routes,
      path: vsPath,
      target,
    };
    if (dr !== undefined)
      facts.destinationRule = { ...dr, path: [...routingPath, "istio", "destinationRule"] };
  }
  const httpRoute = routing?.gatewayAPI?.httpRoute;
  if (httpRoute !== undefined)
    facts.httpRoute = {
      name: httpRoute.name,
      path: [...routingPath, "gatewayAPI", "httpRoute", "name"],
    };
  return facts;
}

/** The pod template: the Rollout's own, or its workloadRef Deployment's when that is in the files. */
function podOf(rollout: Rollout, context: LintContext): RolloutFacts["pod"] {
  let template: Json | undefined = rollout.spec.template;
  const ref = rollout.spec.workloadRef;
  if (template === undefined && ref !== undefined) {
    const deployment = context.find("Deployment", ref.name, rollout.metadata.namespace);
    if (deployment === undefined) return undefined;
    template = asObject(asObject(deployment.object.spec).template);
  }
  return {
    labels: templateLabels(template),
    annotations: asObject(asObject(template?.metadata).annotations),
  };
}

export function allFacts(context: LintContext): { entry: RolloutManifest; facts: RolloutFacts }[] {
  return context.rollouts.map((entry) => ({ entry, facts: factsOf(entry, context) }));
}
