import type { ObservedClaim } from "../core/plan.ts";
import { asObject, asString, pointer, type Json, type JsonPatchOp } from "./json-patch.ts";

/**
 * Claims on parts of a routing object (routes of a VirtualService, subsets of a
 * DestinationRule, backend pairs of an HTTPRoute): one annotation per object holding a
 * JSON map from part to the Rollout that manages it. Pure: reads and patches only.
 */

/** A part Aviary would manage, with how to name it to a person. */
export interface Part {
  key: string;
  what: string;
  field: string;
}

export function claimMap(object: Json, annotation: string): Record<string, string> {
  const text = asString(asObject(asObject(object.metadata).annotations)[annotation]);
  if (text === undefined) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    const map: Record<string, string> = {};
    for (const [key, value] of Object.entries(asObject(parsed)))
      if (typeof value === "string") map[key] = value;
    return map;
  } catch {
    // A mangled annotation claims nothing; the next claim rewrites it whole.
    return {};
  }
}

/** Who holds each part now. */
export function readClaims(
  object: Json,
  annotation: string,
  parts: readonly Part[],
): ObservedClaim[] {
  const map = claimMap(object, annotation);
  return parts.map((part) => ({ what: part.what, field: part.field, owner: map[part.key] }));
}

/**
 * The patch that marks `parts` as `owner`'s (claim) or removes owner's marks from them
 * (release); empty when nothing changes. Guarded by resourceVersion: a concurrent claim
 * makes it fail, and the next read shows who won.
 */
export function claimPatch(
  object: Json,
  annotation: string,
  keys: readonly string[],
  owner: string,
  claim: boolean,
): JsonPatchOp[] {
  const before = claimMap(object, annotation);
  const after = new Map(Object.entries(before));
  for (const key of keys) {
    if (claim) after.set(key, owner);
    else if (after.get(key) === owner) after.delete(key);
  }
  const value = JSON.stringify(sorted(Object.fromEntries(after)));
  if (JSON.stringify(sorted(before)) === value) return [];
  const metadata = asObject(object.metadata);
  const guard: JsonPatchOp = {
    op: "test",
    path: "/metadata/resourceVersion",
    value: metadata.resourceVersion,
  };
  const path = pointer("metadata", "annotations", annotation);
  const annotations = asObject(metadata.annotations);
  if (after.size === 0) return annotation in annotations ? [guard, { op: "remove", path }] : [];
  if (!("annotations" in metadata))
    return [guard, { op: "add", path: "/metadata/annotations", value: { [annotation]: value } }];
  return [guard, { op: annotation in annotations ? "replace" : "add", path, value }];
}

function sorted(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
}
