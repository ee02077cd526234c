import { CronExpressionParser } from "cron-parser";
import { RE2JS } from "re2js";
import type { Problem } from "../core/plan.ts";
import { durationMs } from "./duration.ts";
import { describeValue } from "./schema-problems.ts";
import type {
  AnalysisSpec,
  BlueGreenStrategy,
  CanaryStrategy,
  PromotionWindow,
  Rollout,
  TrafficRouting,
} from "./rollout.ts";

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

type Add = (path: string, message: string) => void;

/** Reports unless exactly one of `fields` is set. */
function exactlyOne(add: Add, path: string, fields: Record<string, unknown>, what: string): void {
  const names = Object.keys(fields);
  const set = names.filter((name) => fields[name] !== undefined);
  if (set.length === 1) return;
  const choice = `${names.slice(0, -1).join(", ")} or ${names.at(-1) ?? ""}`;
  add(
    path,
    set.length === 0
      ? `sets none of ${choice}: set exactly one (${what})`
      : `sets ${set.join(" and ")}: set exactly one of ${choice} (${what}), and remove the others`,
  );
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

function checkAnalysis(add: Add, analysis: AnalysisSpec, path: string): void {
  if (analysis.mesh === "gatewayapi" && analysis.metricsFrom === undefined) {
    add(
      `${path}.metricsFrom`,
      "is required with mesh gatewayapi: say whose metrics to read, istio or linkerd (both implement HTTPRoute)",
    );
  }
  checkNonZeroDuration(
    add,
    analysis.interval,
    `${path}.interval`,
    "the analysis would query Prometheus in a loop",
  );
  const prometheus = analysis.prometheus;
  if (
    prometheus?.bearerTokenSecretRef !== undefined &&
    prometheus.basicAuthSecretRef !== undefined
  ) {
    add(
      `${path}.prometheus`,
      "sets both bearerTokenSecretRef and basicAuthSecretRef: keep the one your Prometheus expects",
    );
  }
  if (analysis.prometheus?.timeout !== undefined) {
    checkNonZeroDuration(
      add,
      analysis.prometheus.timeout,
      `${path}.prometheus.timeout`,
      "every query would time out",
    );
  }
  const threshold = analysis.judge === "threshold";
  const names = new Map<string, number>();
  analysis.metrics.forEach((metric, index) => {
    const at = `${path}.metrics[${index}]`;
    exactlyOne(
      add,
      at,
      { builtin: metric.builtin, templateRef: metric.templateRef },
      "where the metric comes from",
    );
    const first = names.get(metric.name);
    if (first === undefined) names.set(metric.name, index);
    else
      add(
        `${at}.name`,
        `"${metric.name}" is already the name of metrics[${first}]: give each metric its own name`,
      );

    if (metric.builtin === "successRate") {
      if (metric.max !== undefined)
        add(
          `${at}.max`,
          "a success rate has no upper limit: remove max and set min (percent, e.g. 99)",
        );
      if (threshold && metric.min === undefined) {
        add(
          `${at}.min`,
          "is required for successRate with the threshold judge: set the lowest acceptable success rate in percent, e.g. 99",
        );
      }
    }
    if (metric.builtin === "latencyP99") {
      if (metric.min !== undefined)
        add(
          `${at}.min`,
          "a latency has no lower limit: remove min and set max (milliseconds, e.g. 500)",
        );
      if (threshold && metric.max === undefined) {
        add(
          `${at}.max`,
          "is required for latencyP99 with the threshold judge: set the highest acceptable P99 in milliseconds, e.g. 500",
        );
      }
    }
    if (metric.min !== undefined && metric.max !== undefined && metric.min > metric.max) {
      add(
        `${at}.min`,
        `is greater than max (${metric.min} > ${metric.max}), so no value can pass: swap them or fix one`,
      );
    }
  });
}

function checkWindows(
  add: Add,
  windows: readonly PromotionWindow[] | undefined,
  path: string,
): void {
  (windows ?? []).forEach((window, index) => {
    const at = `${path}[${index}]`;
    const fields = window.schedule.trim().split(/\s+/).length;
    if (fields !== 5) {
      add(
        `${at}.schedule`,
        `"${window.schedule}" has ${fields} fields: write 5 (minute hour day-of-month month day-of-week), e.g. "* 9-17 * * 1-5"`,
      );
    } else {
      try {
        CronExpressionParser.parse(window.schedule);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        add(
          `${at}.schedule`,
          `"${window.schedule}" is not a cron expression (${reason}): write e.g. "* 9-17 * * 1-5"`,
        );
      }
    }
    if (!isTimeZone(window.timezone)) {
      add(
        `${at}.timezone`,
        `"${window.timezone}" is not a known time zone: use an IANA name such as "Europe/Rome" or "UTC"`,
      );
    }
  });
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function parsesToZero(text: string): boolean {
  try {
    return durationMs(text) === 0;
  } catch {
    return false; // the schema reports a malformed duration
  }
}

function checkNonZeroDuration(add: Add, text: string | undefined, path: string, why: string): void {
  if (text !== undefined && parsesToZero(text))
    add(path, `is ${text}, and ${why}: set a positive duration such as "30s"`);
}

/** Envoy evaluates header regexes with RE2: what RE2 refuses, the mesh would refuse too. */
function checkRegex(add: Add, regex: string, path: string): void {
  try {
    RE2JS.compile(regex);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    add(
      path,
      `${JSON.stringify(regex)} is not a regular expression Envoy accepts (RE2 syntax: ${reason}); fix it, or match with exact or prefix`,
    );
  }
}

/** A DNS-1123 label, as the API server requires of container names. */
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * What the API server would refuse when Aviary creates the ReplicaSet: caught here, it is
 * an InvalidSpec naming the field instead of a failed write in the middle of a release.
 */
function checkPodTemplate(add: Add, template: Record<string, unknown>): void {
  const spec = template.spec;
  const path = "spec.template.spec";
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    add(path, "is required: the pod template needs a spec with at least one container");
    return;
  }
  const containers = (spec as Record<string, unknown>).containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    add(`${path}.containers`, "needs at least one container (name and image)");
    return;
  }
  const names = new Map<string, number>();
  containers.forEach((container: unknown, index) => {
    const at = `${path}.containers[${index}]`;
    if (typeof container !== "object" || container === null) {
      add(at, "must be a mapping with name and image");
      return;
    }
    const { name, image } = container as Record<string, unknown>;
    if (typeof name !== "string" || name.length > 63 || !CONTAINER_NAME.test(name)) {
      add(
        `${at}.name`,
        `must be a DNS-1123 label (at most 63 lower-case letters, digits and '-'), got ${describeValue(name)}`,
      );
    } else if (names.has(name)) {
      add(
        `${at}.name`,
        `"${name}" is already the name of containers[${names.get(name) ?? 0}]: give each container its own name`,
      );
    } else names.set(name, index);
    if (typeof image !== "string" || image.trim() === "")
      add(`${at}.image`, `is required: the image to run, got ${describeValue(image)}`);
  });
}
