import assert from "node:assert/strict";
import { test } from "node:test";
import type { z } from "zod";
import { Rollout } from "./rollout.ts";
import type { AnalysisSpec, BlueGreenStrategy, CanaryStrategy, RolloutInput } from "./rollout.ts";
import { validateRollout } from "./validate.ts";

/** Rollout inputs for the validation tests: one sound Rollout, and ways to change a part. */
type CanaryInput = z.input<typeof CanaryStrategy>;
type AnalysisInput = z.input<typeof AnalysisSpec>;
type BlueGreenInput = z.input<typeof BlueGreenStrategy>;
type SpecInput = RolloutInput["spec"];

export const C = "spec.strategy.canary";
export const ISTIO = { istio: { virtualService: { name: "api-service-vs" } } };
export const HEADER_ROUTE = {
  name: "beta",
  match: [{ header: "x-user-group", exact: "beta-testers" }],
};

export function rollout(spec: Partial<SpecInput> = {}): RolloutInput {
  return {
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "api-service" },
    spec: {
      selector: { matchLabels: { app: "api-service" } },
      template: {
        metadata: { labels: { app: "api-service", tier: "web" } },
        spec: { containers: [{ name: "api", image: "api:1" }] },
      },
      strategy: { canary: canaryInput() },
      ...spec,
    },
  };
}

export function canaryInput(patch: Partial<CanaryInput> = {}): CanaryInput {
  return {
    stableService: "api-service-stable",
    canaryService: "api-service-canary",
    trafficRouting: ISTIO,
    analysis: { metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }] },
    steps: [
      { setWeight: 10 },
      { analysis: { duration: "5m" } },
      { setHeaderRoute: HEADER_ROUTE },
      { pause: {} },
    ],
    ...patch,
  };
}

export const canary = (patch: Partial<CanaryInput>) =>
  rollout({ strategy: { canary: canaryInput(patch) } });
export const analysis = (patch: Partial<AnalysisInput>) =>
  canary({
    analysis: { metrics: [{ name: "success-rate", builtin: "successRate", min: 99 }], ...patch },
  });
export const blueGreen = (patch: Partial<BlueGreenInput>) =>
  rollout({
    strategy: {
      blueGreen: { activeService: "api-active", previewService: "api-preview", ...patch },
    },
  });

export function problemsFor(input: RolloutInput) {
  return validateRollout(Rollout.parse(input));
}

export interface ProblemRow {
  rule: string;
  input: RolloutInput;
  path: string;
  fix: RegExp;
}

/** One test per row: the problem is reported at its field, with a message that says the fix. */
export function testProblemRows(rows: readonly ProblemRow[]): void {
  for (const row of rows) {
    test(`${row.rule}: reported at ${row.path} with the fix`, () => {
      const problems = problemsFor(row.input);
      const problem = problems.find((p) => p.path === row.path);
      assert.ok(problem, `no problem at ${row.path}; got ${JSON.stringify(problems)}`);
      assert.notEqual(problem.message.trim(), "");
      assert.match(problem.message, row.fix);
    });
  }
}

/** One test per row: a sound variation that has no problem. */
export function testFineRows(rows: readonly { rule: string; input: RolloutInput }[]): void {
  for (const row of rows) {
    test(`${row.rule} is fine`, () => {
      assert.deepEqual(problemsFor(row.input), []);
    });
  }
}
