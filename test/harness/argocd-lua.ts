import { spawn } from "node:child_process";
import { ARGOCD_CM_FILE } from "../../src/argocd/customizations.ts";
import { argocdLuaBinary } from "./binaries.ts";

/**
 * Runs objects through Argo CD's own Lua engine (test/harness/argocd-lua, on the argo-cd
 * module's util/lua) with the customizations of deploy/argocd/argocd-cm.yaml.
 */

export interface ArgoHealth {
  status: string;
  message?: string;
}

export interface ArgoAction {
  name: string;
  disabled: boolean;
  /** What Argo CD would apply: the object the action returned (cleaned as Argo CD cleans it). */
  resource?: Record<string, unknown>;
  operation?: string;
  error?: string;
}

export interface ArgoResult {
  health?: ArgoHealth;
  healthError?: string;
  actions: ArgoAction[];
  actionError?: string;
}

export function argocd(objects: readonly unknown[]): Promise<ArgoResult[]> {
  const binary = argocdLuaBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [ARGOCD_CM_FILE], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`argocd-lua exited ${String(code)}: ${stderr}`));
      else resolve(JSON.parse(stdout) as ArgoResult[]);
    });
    child.stdin.end(JSON.stringify(objects));
  });
}

export async function argocdOne(object: unknown): Promise<ArgoResult> {
  const [result] = await argocd([object]);
  if (result === undefined) throw new Error("argocd-lua returned no result");
  return result;
}

/** The names of the actions Argo CD shows enabled, sorted. */
export function enabled(result: ArgoResult): string[] {
  return result.actions
    .filter((a) => !a.disabled)
    .map((a) => a.name)
    .sort();
}

export function action(result: ArgoResult, name: string): ArgoAction {
  const found = result.actions.find((a) => a.name === name);
  if (found === undefined) throw new Error(`Argo CD offers no action ${name}`);
  if (found.error !== undefined)
    throw new Error(`action ${name} failed in Argo CD: ${found.error}`);
  return found;
}
