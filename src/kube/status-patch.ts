import type { RolloutStatus } from "../api/rollout.ts";

/**
 * The JSON merge patch that turns the stored status into the controller's new one.
 * Fields the new status dropped are sent as null (a merge patch otherwise keeps them),
 * nested objects are diffed the same way, and `command` is never touched: the CLI and
 * Argo CD write it, and a command that arrived after our read must stay pending.
 */
export function statusMergePatch(
  stored: RolloutStatus | undefined,
  next: RolloutStatus,
): Record<string, unknown> {
  const { command: _storedCommand, ...before } = stored ?? {};
  const { command: _nextCommand, ...after } = next;
  return objectPatch(before, plain(after) as Record<string, unknown>);
}

function objectPatch(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    patch[key] = isObject(value) && isObject(old) ? objectPatch(old, value) : value;
  }
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  return patch;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Through JSON, as the API server stores it: drops undefined fields. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Whether the patch would change anything stored. */
export function statusChanges(
  stored: RolloutStatus | undefined,
  patch: Record<string, unknown>,
): boolean {
  return differs(stored ?? {}, patch);
}

function differs(stored: Record<string, unknown>, patch: Record<string, unknown>): boolean {
  for (const [key, value] of Object.entries(patch)) {
    const old = stored[key];
    if (value === null) {
      if (old !== undefined) return true;
    } else if (isPlainObjectValue(value) && isPlainObjectValue(old)) {
      if (differs(old, value)) return true;
    } else if (canonicalJson(value) !== canonicalJson(old)) return true;
  }
  return false;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isPlainObjectValue(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function isPlainObjectValue(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
