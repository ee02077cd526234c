import { POD_TEMPLATE_HASH_LABEL } from "../api/labels.ts";
import {
  asArray,
  asObject,
  asString,
  guardedSet,
  pointer,
  type Json,
  type JsonPatchOp,
} from "./json-patch.ts";
import { RoutingProblem } from "./router.ts";

/**
 * Pure rules for Istio subset-level routing: each subset of the user's DestinationRule
 * selects one version by the pod-template-hash label. Only that label is ever changed.
 */
export interface SubsetNames {
  stable: string;
  canary: string;
  /** The Rollout field holding the DestinationRule reference, e.g. `spec.strategy.canary.trafficRouting.istio.destinationRule`. */
  field: string;
}

function subsets(dr: Json): Json[] {
  return asArray(asObject(dr.spec).subsets).map(asObject);
}

export function subsetIndex(dr: Json, subset: string, subsetField: string): number {
  const index = subsets(dr).findIndex((s) => s.name === subset);
  if (index < 0) {
    const name = asString(asObject(dr.metadata).name) ?? "?";
    throw new RoutingProblem({
      path: subsetField,
      message: `DestinationRule ${name} has no subset named "${subset}"; add the subset or fix ${subsetField}.`,
    });
  }
  return index;
}

export function observeSubsets(
  dr: Json,
  names: SubsetNames,
): { stable?: string | undefined; canary?: string | undefined } {
  const hashOf = (subset: string, field: string): string | undefined =>
    asString(
      asObject(subsets(dr)[subsetIndex(dr, subset, field)]?.labels)[POD_TEMPLATE_HASH_LABEL],
    );
  return {
    stable: hashOf(names.stable, `${names.field}.stableSubset`),
    canary: hashOf(names.canary, `${names.field}.canarySubset`),
  };
}

/** Points `subset` at pods of `hash`; empty when it already selects them. */
export function selectSubsetPatch(
  dr: Json,
  subset: string,
  subsetField: string,
  hash: string,
): JsonPatchOp[] {
  const index = subsetIndex(dr, subset, subsetField);
  const entry = subsets(dr)[index] ?? {};
  const subsetPath = pointer("spec", "subsets", index);
  const nameGuard: JsonPatchOp = { op: "test", path: `${subsetPath}/name`, value: subset };
  if (!("labels" in entry))
    return [
      nameGuard,
      { op: "add", path: `${subsetPath}/labels`, value: { [POD_TEMPLATE_HASH_LABEL]: hash } },
    ];
  const labels = asObject(entry.labels);
  if (labels[POD_TEMPLATE_HASH_LABEL] === hash) return [];
  return [nameGuard, ...guardedSet(`${subsetPath}/labels`, labels, POD_TEMPLATE_HASH_LABEL, hash)];
}

/** Every label a subset selects by, or undefined when the subset does not exist. */
export function subsetLabels(dr: Json, subset: string): Record<string, string> | undefined {
  const entry = subsets(dr).find((s) => s.name === subset);
  if (entry === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(asObject(entry.labels)))
    if (typeof value === "string") labels[key] = value;
  return labels;
}

/** Removes Aviary's hash label from the named subsets, leaving the person's labels; empty when none has it. */
export function restoreSubsetsPatch(dr: Json, names: readonly string[]): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  subsets(dr).forEach((entry, index) => {
    if (!names.includes(asString(entry.name) ?? "")) return;
    const labels = asObject(entry.labels);
    if (!(POD_TEMPLATE_HASH_LABEL in labels)) return;
    const path = pointer("spec", "subsets", index, "labels", POD_TEMPLATE_HASH_LABEL);
    ops.push(
      { op: "test", path: pointer("spec", "subsets", index, "name"), value: entry.name },
      { op: "test", path, value: labels[POD_TEMPLATE_HASH_LABEL] },
      { op: "remove", path },
    );
  });
  return ops;
}
