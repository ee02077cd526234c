import { basename } from "node:path";

/**
 * The name help and usage lines show: kubectl runs plugins through a `kubectl-aviary`
 * executable on PATH, and people then type `kubectl aviary ...`.
 */
export function invokedName(script: string | undefined = process.argv[1]): string {
  const file = script === undefined ? "" : basename(script).replace(/\.(js|ts|mjs)$/, "");
  return file === "kubectl-aviary" || file === "kubectl_aviary" ? "kubectl aviary" : "aviary";
}
