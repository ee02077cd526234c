import jsonPatch from "fast-json-patch";

/**
 * RFC 6902 JSON Patch operations, as the routers send them. Every change is guarded by a
 * `test` of what it was computed from, so a concurrent edit makes the patch fail (and the
 * router retry on fresh data) instead of being overwritten.
 */
export type JsonPatchOp =
  | { op: "test"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "add"; path: string; value: unknown }
  | { op: "remove"; path: string };

export type Json = Record<string, unknown>;

/** RFC 6901: a path segment with `~` and `/` escaped. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${pointerSegment(s)}`).join("");
}

/** Sets `key` of the object at `objectPath` to `value`, guarded by the key's old value (or the object's, when the key is new). */
export function guardedSet(
  objectPath: string,
  object: Json,
  key: string,
  value: unknown,
): JsonPatchOp[] {
  const path = `${objectPath}/${pointerSegment(key)}`;
  if (key in object)
    return [
      { op: "test", path, value: object[key] },
      { op: "replace", path, value },
    ];
  return [
    { op: "test", path: objectPath, value: object },
    { op: "add", path, value },
  ];
}

export const asObject = (value: unknown): Json =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
export const asArray = (value: unknown): unknown[] =>
  Array.isArray(value) ? (value as unknown[]) : [];
export const asString = (value: unknown): string | undefined =>
  typeof value === "string" ? value : undefined;

/**
 * The object a JSON Patch would produce, computed locally (the input is not changed). The
 * routers compute patches against a fresh read and then send the result's Aviary-owned
 * fields as a server-side apply, so the patch functions stay the one place that knows
 * where each weight lives. Throws when a `test` fails or a path is missing.
 */
export function applyJsonPatch(object: Json, ops: readonly JsonPatchOp[]): Json {
  return jsonPatch.applyPatch(structuredClone(object), ops as jsonPatch.Operation[], true, false)
    .newDocument;
}
