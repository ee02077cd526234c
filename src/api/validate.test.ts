import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { RolloutInput } from "./rollout.ts";
import {
  blueGreen,
  C,
  canary,
  canaryInput,
  HEADER_ROUTE,
  ISTIO,
  problemsFor,
  rollout,
  testFineRows,
  testProblemRows,
  type ProblemRow,
} from "./rollout-input.fixture.ts";

test("a sound Rollout has no problems, canary or blue/green", () => {
  assert.deepEqual(problemsFor(rollout()), []);
  assert.deepEqual(
    problemsFor(blueGreen({ prePromotionAnalysis: { metricsFrom: "linkerd" } })),
    [],
  );
});

describe("validateRollout", () => {
  const rows: ProblemRow[] = [
    {
      rule: "no strategy",
      input: rollout({ strategy: {} }),
      path: "spec.strategy",
      fix: /set exactly one/,
    },
    {
      rule: "both strategies",
      input: rollout({
        strategy: { canary: canaryInput(), blueGreen: { activeService: "a", previewService: "b" } },
      }),
      path: "spec.strategy",
      fix: /sets canary and blueGreen: set exactly one .* remove the others/,
    },
    {
      rule: "template and workloadRef",
      input: rollout({ workloadRef: { name: "api-service" } }),
      path: "spec",
      fix: /set exactly one of template or workloadRef/,
    },
    {
      rule: "a step of two kinds",
      input: canary({ steps: [{ setWeight: 10, pause: {} }] }),
      path: `${C}.steps[0]`,
      fix: /set exactly one of setWeight, pause, analysis, setHeaderRoute or setCanaryScale/,
    },
    {
      rule: "a step of no kind",
      input: canary({ steps: [{}] }),
      path: `${C}.steps[0]`,
      fix: /sets none of .*: set exactly one/,
    },
    {
      rule: "a header match of two kinds",
      input: canary({
        steps: [
          { setHeaderRoute: { name: "b", match: [{ header: "h", exact: "x", regex: "y" }] } },
        ],
      }),
      path: `${C}.steps[0].setHeaderRoute.match[0]`,
      fix: /set exactly one of exact, prefix or regex/,
    },
    {
      rule: "two traffic routers",
      input: canary({ trafficRouting: { ...ISTIO, gatewayAPI: { httpRoute: { name: "r" } } } }),
      path: `${C}.trafficRouting`,
      fix: /set exactly one of istio or gatewayAPI/,
    },
    {
      rule: "setCanaryScale of two kinds",
      input: canary({ steps: [{ setCanaryScale: { replicas: 2, weight: 10 } }] }),
      path: `${C}.steps[0].setCanaryScale`,
      fix: /set exactly one of replicas, weight or matchTrafficWeight/,
    },
    {
      rule: "setCanaryScale without trafficRouting",
      input: canary({ trafficRouting: undefined, steps: [{ setCanaryScale: { replicas: 2 } }] }),
      path: `${C}.steps[0].setCanaryScale`,
      fix: /add spec\.strategy\.canary\.trafficRouting or remove this step/,
    },
    {
      rule: "setHeaderRoute without trafficRouting",
      input: canary({ trafficRouting: undefined, steps: [{ setHeaderRoute: HEADER_ROUTE }] }),
      path: `${C}.steps[0].setHeaderRoute`,
      fix: /add spec\.strategy\.canary\.trafficRouting .* or remove this step/,
    },
    {
      rule: "a zero pause as the last step",
      input: canary({ steps: [{ setWeight: 10 }, { pause: { duration: "0s" } }] }),
      path: `${C}.steps[1].pause.duration`,
      fix: /remove this step/,
    },
    {
      rule: "an analysis step without analysis settings",
      input: canary({ analysis: undefined, steps: [{ analysis: {} }] }),
      path: `${C}.steps[0].analysis`,
      fix: /add it .* or remove this step/,
    },
    {
      rule: "an analysis step of no length",
      input: canary({ steps: [{ analysis: { duration: "0m" } }] }),
      path: `${C}.steps[0].analysis.duration`,
      fix: /set a positive duration/,
    },
    {
      rule: "two header routes of one name",
      input: canary({
        steps: [
          { setHeaderRoute: HEADER_ROUTE },
          { setWeight: 5 },
          { setHeaderRoute: HEADER_ROUTE },
        ],
      }),
      path: `${C}.steps[2].setHeaderRoute.name`,
      fix: /give each header route its own name/,
    },
    {
      rule: "stableService equal to canaryService",
      input: canary({ canaryService: "api-service-stable" }),
      path: `${C}.canaryService`,
      fix: /name two different Services/,
    },
    {
      rule: "activeService equal to previewService",
      input: blueGreen({ previewService: "api-active" }),
      path: "spec.strategy.blueGreen.previewService",
      fix: /name two different Services/,
    },
    {
      rule: "a DestinationRule whose subsets are equal",
      input: canary({
        trafficRouting: {
          istio: {
            virtualService: { name: "vs" },
            destinationRule: { name: "dr", stableSubset: "v1", canarySubset: "v1" },
          },
        },
      }),
      path: `${C}.trafficRouting.istio.destinationRule.canarySubset`,
      fix: /name two different subsets/,
    },
    {
      rule: "a selector the template's labels do not match",
      input: rollout({ selector: { matchLabels: { app: "api" } } }),
      path: 'spec.selector.matchLabels["app"]',
      fix: /make the selector and the template's labels agree/,
    },
    {
      rule: "a selector that selects every pod",
      input: rollout({ selector: {} }),
      path: "spec.selector",
      fix: /add matchLabels/,
    },
    {
      rule: "a blue/green promotion analysis of no length",
      input: blueGreen({ postPromotionAnalysis: { duration: "0s" } }),
      path: "spec.strategy.blueGreen.postPromotionAnalysis.duration",
      fix: /set a positive duration/,
    },
    {
      rule: "a header regex Envoy (RE2) would refuse",
      input: canary({
        steps: [
          { setHeaderRoute: { name: "beta", match: [{ header: "x-b", regex: "(?=beta)" }] } },
        ],
      }),
      path: `${C}.steps[0].setHeaderRoute.match[0].regex`,
      fix: /not a regular expression Envoy accepts \(RE2 syntax: .*\); fix it, or match with exact or prefix/,
    },
    {
      rule: "a host-level canary without a canaryService",
      input: canary({ canaryService: undefined }),
      path: `${C}.canaryService`,
      fix: /is required: name the Service \(it may be omitted only with subset-level routing/,
    },
    {
      rule: "a pod template without containers",
      input: rollout({
        template: { metadata: { labels: { app: "api-service" } }, spec: { containers: [] } },
      }),
      path: "spec.template.spec.containers",
      fix: /needs at least one container/,
    },
    {
      rule: "a container name the API server refuses",
      input: rollout({
        template: {
          metadata: { labels: { app: "api-service" } },
          spec: { containers: [{ name: "API_1", image: "api:1" }] },
        },
      }),
      path: "spec.template.spec.containers[0].name",
      fix: /must be a DNS-1123 label .*got "API_1"/,
    },
    {
      rule: "a container without an image",
      input: rollout({
        template: {
          metadata: { labels: { app: "api-service" } },
          spec: { containers: [{ name: "api" }] },
        },
      }),
      path: "spec.template.spec.containers[0].image",
      fix: /is required: the image to run/,
    },
    {
      rule: "autoPromotionSeconds while auto-promotion is off",
      input: blueGreen({ autoPromotionEnabled: false, autoPromotionSeconds: 60 }),
      path: "spec.strategy.blueGreen.autoPromotionSeconds",
      fix: /remove it, or set autoPromotionEnabled to true/,
    },
  ];

  testProblemRows(rows);

  const fine: { rule: string; input: RolloutInput }[] = [
    {
      rule: "setWeight steps without trafficRouting (a replica split)",
      input: canary({ trafficRouting: undefined, steps: [{ setWeight: 20 }, { pause: {} }] }),
    },
    {
      rule: "a zero pause that is not the last step",
      input: canary({ steps: [{ pause: { duration: "0s" } }, { setWeight: 50 }] }),
    },
    {
      rule: "a subset-level canary that names no Services (the DestinationRule's host is the Service)",
      input: canary({
        stableService: undefined,
        canaryService: undefined,
        trafficRouting: {
          istio: {
            virtualService: { name: "api-vs" },
            destinationRule: { name: "api-dr", stableSubset: "stable", canarySubset: "canary" },
          },
        },
      }),
    },
    {
      rule: "a header regex in RE2 syntax",
      input: canary({
        steps: [
          { setHeaderRoute: { name: "b", match: [{ header: "x-b", regex: "^beta-[0-9]+$" }] } },
        ],
      }),
    },
    {
      rule: "a workloadRef, whose pod labels Aviary cannot see here",
      input: rollout({ template: undefined, workloadRef: { name: "api" } }),
    },
  ];
  testFineRows(fine);

  test("every problem is reported, not only the first", () => {
    const input = canary({
      canaryService: "api-service-stable",
      trafficRouting: undefined,
      promotionWindows: [{ schedule: "x", timezone: "Nowhere" }],
    });
    const paths = problemsFor(input).map((p) => p.path);
    assert.ok(paths.length >= 4, JSON.stringify(paths));
  });
});
