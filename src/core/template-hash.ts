import { createHash } from "node:crypto";

/**
 * The identity of a pod template: a short hash of its canonical JSON (keys sorted), so
 * the same template always gets the same name whatever order its YAML was written in.
 */
export function templateHash(template: unknown): string {
  const digest = createHash("sha256").update(canonicalJson(template)).digest("hex");
  // Kubernetes-style safe alphabet (no vowels that could spell words), 10 characters.
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let out = "";
  for (let i = 0; i < 10; i++)
    out += alphabet.charAt(Number.parseInt(digest.slice(i * 2, i * 2 + 2), 16) % alphabet.length);
  return out;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
