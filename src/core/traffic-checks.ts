import type { Rollout } from "../api/rollout.ts";
import type { Observed, Problem } from "./plan.ts";
import { describeLabels, unmatchedLabels } from "./pod-selection.ts";

/**
 * Traffic that would be broken once Aviary acts, found before any weight moves: a
 * selector the Rollout's pods can never match (every request to it would fail), and
 * weights that cannot add up beside a person's other destinations.
 */
export function trafficProblems(rollout: Rollout, observed: Observed): Problem[] {
  return [...selectorProblems(observed), ...weightProblems(rollout, observed)];
}

function selectorProblems(observed: Observed): Problem[] {
  const pods = observed.podLabels;
  if (pods === undefined) return [];
  const problems: Problem[] = [];
  for (const selector of [observed.selectorLabels?.stable, observed.selectorLabels?.canary]) {
    if (selector === undefined) continue;
    const missing = unmatchedLabels(selector.labels, pods);
    if (missing.length === 0) continue;
    const wanted = describeLabels(missing);
    const carried = missing.length === 1 ? "carry" : "carry all of";
    problems.push({
      path: selector.field,
      message: `${selector.what} selects ${wanted}, which the Rollout's pods do not ${carried}; drop it (Aviary adds the pod-template hash) or add it to the template's labels`,
    });
  }
  return problems;
}

function weightProblems(rollout: Rollout, observed: Observed): Problem[] {
  const fixed = observed.routes?.fixedWeight ?? 0;
  if (fixed <= 0) return [];
  const left = 100 - fixed;
  const to = observed.routes?.fixedWeightTo ?? "other destinations";
  const { canary, blueGreen } = rollout.spec.strategy;
  if (blueGreen !== undefined)
    return [
      {
        path: "spec.strategy.blueGreen.trafficRouting",
        message: `${fixed}% of the route goes to ${to}, so the switch to the preview can never reach 100%: remove the other destinations from the managed routes`,
      },
    ];
  const problems: Problem[] = [];
  (canary?.steps ?? []).forEach((step, index) => {
    if (step.setWeight !== undefined && step.setWeight > left)
      problems.push({
        path: `spec.strategy.canary.steps[${index}].setWeight`,
        message: `is ${step.setWeight}, but only ${left}% of the route is left for stable and canary (${fixed}% goes to ${to}): lower it to at most ${left}, or remove the other destinations`,
      });
  });
  return problems;
}
