/**
 * What Argo CD's `managedFieldsManagers` does before it compares live with Git: every field
 * that one of the named managers owns (per the live object's managedFields) is removed from
 * both sides, so a field only those managers set is never drift. RespectIgnoreDifferences
 * then applies the Git object without those fields. Written from the Kubernetes fieldsV1
 * format (`f:` field, `k:` list item by key, `v:` set value, `.` the item itself).
 */

type Json = Record<string, unknown>;

interface ManagedFieldsEntry {
  manager?: string;
  fieldsV1?: Json;
}

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The fields the managers own, merged into one fieldsV1 tree. */
export function ownedBy(live: Json, managers: readonly string[]): Json {
  const entries = ((live.metadata as Json | undefined)?.managedFields ??
    []) as ManagedFieldsEntry[];
  const merged: Json = {};
  const merge = (into: Json, from: Json) => {
    for (const [key, child] of Object.entries(from)) {
      const target = (into[key] ??= {}) as Json;
      if (isObject(child)) merge(target, child);
    }
  };
  for (const entry of entries)
    if (managers.includes(entry.manager ?? "") && isObject(entry.fieldsV1))
      merge(merged, entry.fieldsV1);
  return merged;
}

/** A copy of `object` without the fields in `fields` (a fieldsV1 tree). */
export function withoutFields(object: Json, fields: Json): Json {
  const copy = structuredClone(object);
  strip(copy, fields);
  return copy;
}

/** A leaf of the tree owns the whole value at that path. */
const isLeaf = (fields: unknown): boolean =>
  !isObject(fields) || Object.keys(fields).filter((k) => k !== ".").length === 0;

function strip(value: unknown, fields: Json): void {
  for (const [key, child] of Object.entries(fields)) {
    if (key.startsWith("f:") && isObject(value)) {
      const name = key.slice(2);
      if (!(name in value)) continue;
      if (isLeaf(child)) Reflect.deleteProperty(value, name);
      else strip(value[name], child as Json);
    } else if ((key.startsWith("k:") || key.startsWith("v:")) && Array.isArray(value)) {
      const wanted = JSON.parse(key.slice(2)) as unknown;
      const index = value.findIndex((item) =>
        key.startsWith("v:")
          ? JSON.stringify(item) === JSON.stringify(wanted)
          : isObject(item) &&
            isObject(wanted) &&
            Object.entries(wanted).every(([k, v]) => JSON.stringify(item[k]) === JSON.stringify(v)),
      );
      if (index < 0) continue;
      if (isLeaf(child)) value.splice(index, 1);
      else strip(value[index], child as Json);
    }
  }
}

/** Argo CD's comparison with `managedFieldsManagers`: the live and Git objects, both without the managers' fields. */
export function normalizedPair(
  live: Json,
  git: Json,
  managers: readonly string[],
): { live: Json; git: Json } {
  const fields = ownedBy(live, managers);
  return { live: withoutFields(live, fields), git: withoutFields(git, fields) };
}
