import { INSTANCE_ID_LABEL } from "../api/labels.ts";

/**
 * Which Rollouts one controller instance takes: its instance id (or, without one, those no
 * instance claims) and an optional label selector. The same rule goes to the API server as
 * the Rollout watch's label selector and is checked here on the rare direct reads, so a
 * Rollout is reconciled only by the instance it names.
 */
export interface InstanceScope {
  /** The label selector of the Rollout watch. */
  selector: string;
  /** Whether a Rollout with these labels is this instance's. */
  includes(labels: Readonly<Record<string, string>> | undefined): boolean;
}

type Requirement =
  { op: "exists" | "absent"; key: string } | { op: "in" | "notin"; key: string; values: string[] };

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The scope of `instanceId` and `selector`; throws a sentence a person understands when either is malformed. */
export function instanceScope(
  instanceId: string | undefined,
  selector: string | undefined,
): InstanceScope {
  if (
    instanceId !== undefined &&
    (instanceId === "" || instanceId.length > 63 || !LABEL_VALUE.test(instanceId))
  )
    throw new Error(
      `instance id "${instanceId}" is not a label value (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`,
    );
  const own =
    instanceId === undefined ? `!${INSTANCE_ID_LABEL}` : `${INSTANCE_ID_LABEL}=${instanceId}`;
  const text = [selector?.trim(), own].filter((s) => s !== undefined && s !== "").join(",");
  const requirements = parseSelector(text);
  return {
    selector: text,
    includes: (labels) => requirements.every((r) => satisfies(labels ?? {}, r)),
  };
}

function satisfies(labels: Readonly<Record<string, string>>, r: Requirement): boolean {
  const value = labels[r.key];
  switch (r.op) {
    case "exists":
      return value !== undefined;
    case "absent":
      return value === undefined;
    case "in":
      return value !== undefined && r.values.includes(value);
    case "notin":
      return value === undefined || !r.values.includes(value);
  }
}

/**
 * A Kubernetes label selector in its string form: `k=v`, `k==v`, `k!=v`, `k`, `!k`,
 * `k in (a,b)`, `k notin (a,b)`, joined by commas.
 */
export function parseSelector(text: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((part) => {
      const set = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
      if (set?.[1] !== undefined && set[3] !== undefined)
        return {
          op: set[2] === "in" ? "in" : "notin",
          key: set[1],
          values: set[3].split(",").map((v) => v.trim()),
        } as const;
      const equality = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(part);
      if (equality?.[1] !== undefined && equality[3] !== undefined)
        return {
          op: equality[2] === "!=" ? "notin" : "in",
          key: equality[1],
          values: [equality[3]],
        } as const;
      const exists = /^(!?)\s*([^\s!=(),]+)$/.exec(part);
      if (exists?.[2] !== undefined)
        return { op: exists[1] === "!" ? "absent" : "exists", key: exists[2] } as const;
      throw new Error(
        `"${part}" is not a label selector requirement (use key=value, key!=value, key, !key, "key in (a,b)" or "key notin (a,b)")`,
      );
    });
}
