import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadAllYaml, type KubernetesObject } from "@kubernetes/client-node";
import { helmBinary } from "./binaries.ts";
import { kubeconfigPath } from "./env.ts";
import { REPO_ROOT } from "./testenv.ts";

/** helm (built from its Go module by build-binaries.sh) against the harness cluster. */

export const CHART_DIR = join(REPO_ROOT, "charts/aviary");
const run = promisify(execFile);

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function helm(args: readonly string[]): Promise<HelmResult> {
  // Helm keeps its caches and config outside the repo, in a directory of this run's own.
  const home = mkdtempSync(join(tmpdir(), "aviary-helm-"));
  try {
    const { stdout, stderr } = await run(helmBinary(), [...args], {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfigPath(),
        HELM_CACHE_HOME: join(home, "cache"),
        HELM_CONFIG_HOME: join(home, "config"),
        HELM_DATA_HOME: join(home, "data"),
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === "number" ? e.code : 1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? String(error),
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** helm, failing with helm's own words when it fails. */
export async function helmOk(args: readonly string[]): Promise<string> {
  const result = await helm(args);
  if (result.code !== 0)
    throw new Error(`helm ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

/** A values file for `-f`: JSON is YAML. */
export function valuesFile(values: Record<string, unknown>): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "aviary-values-"));
  const path = join(dir, "values.json");
  writeFileSync(path, JSON.stringify(values));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Rendered objects, as client-node's models: loadAllYaml maps keys such as
 * `x-kubernetes-validations` onto them, which plain objects would lose when the client
 * serializes a request.
 */
export function parseManifests(text: string): KubernetesObject[] {
  return (loadAllYaml(text) as (KubernetesObject | null)[]).filter(
    (o): o is KubernetesObject => o !== null && typeof o === "object",
  );
}

/** `helm template` of the chart with these values, as objects. */
export async function renderChart(
  release: string,
  namespace: string,
  values: Record<string, unknown>,
  extra: readonly string[] = [],
): Promise<KubernetesObject[]> {
  const file = valuesFile(values);
  try {
    const out = await helmOk([
      "template",
      release,
      CHART_DIR,
      "--namespace",
      namespace,
      "-f",
      file.path,
      ...extra,
    ]);
    return parseManifests(out);
  } finally {
    file.remove();
  }
}

/** "Kind: n" counts, sorted by kind, for the report. */
export function countByKind(objects: readonly KubernetesObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.kind ?? "?"] = (counts[o.kind ?? "?"] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
