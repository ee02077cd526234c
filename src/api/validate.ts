import type { Problem } from "../core/plan.ts";
import type { BlueGreenStrategy, CanaryStrategy, Rollout, TrafficRouting } from "./rollout.ts";
import { checkAnalysis, checkWindows } from "./validate-analysis.ts";
import { describeValue } from "./schema-problems.ts";
import {
  checkNonZeroDuration,
  checkRegex,
  exactlyOne,
  parsesToZero,
  type Add,
} from "./validate-fields.ts";
import { checkPodTemplate } from "./validate-pod-template.ts";

/**
 * Rules of a Rollout beyond what its schema checks. The API server runs the CEL
 * versions of some of them; CEL cannot run client-side, so `aviary` and the controller
 * check them here too. Each problem names the field and says what to do.
 */
export function validateRollout(rollout: Rollout): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const spec = rollout.spec;

  exactlyOne(
    add,
    "spec",
    { template: spec.template, workloadRef: spec.workloadRef },
    "the pods to run",
  );
  checkSelector(add, rollout);
  if (spec.template !== undefined) checkPodTemplate(add, spec.template);
  const { canary, blueGreen } = spec.strategy;
  exactlyOne(add, "spec.strategy", { canary, blueGreen }, "the release strategy");
  if (canary !== undefined) checkCanary(add, canary, "spec.strategy.canary");
  if (blueGreen !== undefined) checkBlueGreen(add, blueGreen, "spec.strategy.blueGreen");
  return problems;
}

function checkSelector(add: Add, rollout: Rollout): void {
  const { selector, template } = rollout.spec;
  const matchLabels = selector.matchLabels ?? {};
  if (Object.keys(matchLabels).length === 0 && (selector.matchExpressions ?? []).length === 0) {
    add(
      "spec.selector",
      "selects every pod in the namespace: add matchLabels that match the pod template's labels",
    );
    return;
  }
  if (template === undefined) return;
  const metadata = template.metadata;
  const rawLabels =
    typeof metadata === "object" && metadata !== null
      ? (metadata as Record<string, unknown>).labels
      : undefined;
  const labels =
    typeof rawLabels === "object" && rawLabels !== null
      ? (rawLabels as Record<string, unknown>)
      : {};
  for (const [key, value] of Object.entries(matchLabels)) {
    if (labels[key] === value) continue;
    const found =
      labels[key] === undefined ? "has no such label" : `has ${key}=${describeValue(labels[key])}`;
    add(
      `spec.selector.matchLabels[${JSON.stringify(key)}]`,
      `selects ${key}=${value} but spec.template.metadata.labels ${found}: make the selector and the template's labels agree`,
    );
  }
}

function checkCanary(add: Add, canary: CanaryStrategy, path: string): void {
  const subsetLevel = canary.trafficRouting?.istio?.destinationRule !== undefined;
  if (!subsetLevel) {
    for (const key of ["stableService", "canaryService"] as const) {
      if (canary[key] === undefined)
        add(
          `${path}.${key}`,
          "is required: name the Service (it may be omitted only with subset-level routing, trafficRouting.istio.destinationRule)",
        );
    }
  }
  if (
    canary.stableService !== undefined &&
    canary.stableService === canary.canaryService &&
    !subsetLevel
  ) {
    add(
      `${path}.canaryService`,
      `is the same Service as stableService (${canary.stableService}): name two different Services, or split one Service by subsets with trafficRouting.istio.destinationRule`,
    );
  }
  const routing = canary.trafficRouting;
  if (routing !== undefined) checkTrafficRouting(add, routing, `${path}.trafficRouting`);
  if (canary.analysis !== undefined) checkAnalysis(add, canary.analysis, `${path}.analysis`);
  checkWindows(add, canary.promotionWindows, `${path}.promotionWindows`);

  const headerRouteNames = new Map<string, number>();
  canary.steps.forEach((step, index) => {
    const at = `${path}.steps[${index}]`;
    const { setWeight, pause, analysis, setHeaderRoute, setCanaryScale } = step;
    exactlyOne(
      add,
      at,
      { setWeight, pause, analysis, setHeaderRoute, setCanaryScale },
      "what this step does",
    );
    if (setHeaderRoute !== undefined) {
      if (routing === undefined) {
        add(
          `${at}.setHeaderRoute`,
          "needs a traffic router to route by header: add spec.strategy.canary.trafficRouting (istio or gatewayAPI), or remove this step",
        );
      }
      const first = headerRouteNames.get(setHeaderRoute.name);
      if (first === undefined) headerRouteNames.set(setHeaderRoute.name, index);
      else {
        add(
          `${at}.setHeaderRoute.name`,
          `"${setHeaderRoute.name}" is already the name of the header route in step ${first}: give each header route its own name`,
        );
      }
      setHeaderRoute.match.forEach((match, matchIndex) => {
        const { exact, prefix, regex } = match;
        const matchPath = `${at}.setHeaderRoute.match[${matchIndex}]`;
        exactlyOne(add, matchPath, { exact, prefix, regex }, "how the header value matches");
        if (regex !== undefined) checkRegex(add, regex, `${matchPath}.regex`);
      });
    }
    if (setCanaryScale !== undefined) {
      const { replicas, weight, matchTrafficWeight } = setCanaryScale;
      exactlyOne(
        add,
        `${at}.setCanaryScale`,
        { replicas, weight, matchTrafficWeight },
        "the canary's size",
      );
      if (routing === undefined) {
        add(
          `${at}.setCanaryScale`,
          "needs trafficRouting: without a traffic router the canary's share of traffic is its share of replicas; add spec.strategy.canary.trafficRouting or remove this step",
        );
      }
    }
    if (analysis !== undefined) {
      if (canary.analysis === undefined) {
        add(
          `${at}.analysis`,
          "runs analysis, but spec.strategy.canary.analysis is not set: add it (metrics, interval), or remove this step",
        );
      }
      checkNonZeroDuration(
        add,
        analysis.duration,
        `${at}.analysis.duration`,
        "an analysis of no length decides nothing",
      );
    }
  });

  const lastIndex = canary.steps.length - 1;
  const lastPause = canary.steps[lastIndex]?.pause?.duration;
  if (lastPause !== undefined && parsesToZero(lastPause)) {
    add(
      `${path}.steps[${lastIndex}].pause.duration`,
      `is ${lastPause} on the last step, which pauses for nothing before full promotion: remove this step, or give it a duration`,
    );
  }
}

function checkBlueGreen(add: Add, blueGreen: BlueGreenStrategy, path: string): void {
  if (blueGreen.activeService === blueGreen.previewService) {
    add(
      `${path}.previewService`,
      `is the same Service as activeService (${blueGreen.activeService}): name two different Services`,
    );
  }
  if (blueGreen.trafficRouting !== undefined)
    checkTrafficRouting(add, blueGreen.trafficRouting, `${path}.trafficRouting`);
  if (!blueGreen.autoPromotionEnabled && blueGreen.autoPromotionSeconds !== undefined) {
    add(
      `${path}.autoPromotionSeconds`,
      "has no effect because autoPromotionEnabled is false: remove it, or set autoPromotionEnabled to true",
    );
  }
  for (const key of ["prePromotionAnalysis", "postPromotionAnalysis"] as const) {
    const analysis = blueGreen[key];
    if (analysis === undefined) continue;
    checkAnalysis(add, analysis, `${path}.${key}`);
    checkNonZeroDuration(
      add,
      analysis.duration,
      `${path}.${key}.duration`,
      "an analysis of no length decides nothing",
    );
  }
  checkWindows(add, blueGreen.promotionWindows, `${path}.promotionWindows`);
}

function checkTrafficRouting(add: Add, routing: TrafficRouting, path: string): void {
  exactlyOne(
    add,
    path,
    { istio: routing.istio, gatewayAPI: routing.gatewayAPI },
    "the traffic router",
  );
  const rule = routing.istio?.destinationRule;
  if (rule !== undefined && rule.stableSubset === rule.canarySubset) {
    add(
      `${path}.istio.destinationRule.canarySubset`,
      `is the same subset as stableSubset (${rule.stableSubset}): name two different subsets of the DestinationRule`,
    );
  }
}
