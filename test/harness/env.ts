import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { MeshSim, type MeshSimOptions } from "./mesh-sim.ts";
import { registerScrapeTarget, unregisterScrapeTarget, waitForScrape } from "./prometheus.ts";
import { REPO_ROOT, type TestEnvInfo } from "./testenv.ts";

/**
 * What e2e tests import: the cluster's KubeConfig, a fresh namespace per test, the
 * Prometheus URL, and mesh simulators that Prometheus scrapes. The coordinates come from
 * the global setup (env vars) or, when a file is run by hand, from `npm run cluster:up`.
 */
export const ENV_KUBECONFIG = "AVIARY_TEST_KUBECONFIG";
export const ENV_PROMETHEUS_URL = "AVIARY_TEST_PROMETHEUS_URL";
export const ENV_PROM_TARGETS_FILE = "AVIARY_TEST_PROM_TARGETS_FILE";
/** The environment's run dir, for tests that restart its parts (chaos). */
export const ENV_RUN_DIR = "AVIARY_TEST_RUN_DIR";

/** Where `npm run cluster:up` leaves its coordinates. */
export const STATE_DIR = join(REPO_ROOT, ".testenv");
export const STATE_FILE = join(STATE_DIR, "state.json");

interface Coordinates {
  runDir?: string;
  kubeconfigPath: string;
  prometheusUrl: string;
  prometheusTargetsFile: string;
}

function coordinates(): Coordinates {
  const kubeconfigPath = process.env[ENV_KUBECONFIG];
  const prometheusUrl = process.env[ENV_PROMETHEUS_URL];
  const prometheusTargetsFile = process.env[ENV_PROM_TARGETS_FILE];
  const runDir = process.env[ENV_RUN_DIR];
  if (kubeconfigPath && prometheusUrl && prometheusTargetsFile)
    return {
      kubeconfigPath,
      prometheusUrl,
      prometheusTargetsFile,
      ...(runDir === undefined ? {} : { runDir }),
    };
  if (existsSync(STATE_FILE)) return JSON.parse(readFileSync(STATE_FILE, "utf8")) as TestEnvInfo;
  throw new Error(
    "No test cluster: run e2e tests with `npm run test:e2e` (its global setup starts one), " +
      "or start one with `npm run cluster:up` before running a single file.",
  );
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(coordinates().kubeconfigPath);
  return kc;
}

/** The admin kubeconfig file, for tests that run the CLI or the controller as a separate process. */
export function kubeconfigPath(): string {
  return coordinates().kubeconfigPath;
}

/** The run dir of the environment (its logs, etcd data, how its API server was started). */
export function runDir(): string {
  const dir = coordinates().runDir;
  if (dir === undefined) throw new Error(`${ENV_RUN_DIR} is not set: the global setup sets it`);
  return dir;
}

export function prometheusUrl(): string {
  return coordinates().prometheusUrl;
}

/** The file_sd file Prometheus scrapes its targets from (registerScrapeTarget writes it). */
export function prometheusTargetsFile(): string {
  return coordinates().prometheusTargetsFile;
}

/** Creates a namespace for this test and deletes it when the test ends. */
export async function testNamespace(t: TestContext, prefix = "e2e"): Promise<string> {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await KubernetesObjectApi.makeApiClient(kc).create({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  });
  t.after(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
    // The test's controller may be gone: its finalizers must not keep the namespace (and
    // the pods on kwok's one node) alive after the test.
    await releaseFinalizers(kc, name).catch(() => undefined);
  });
  return name;
}

interface RolloutMeta {
  metadata?: { name?: string; finalizers?: string[]; deletionTimestamp?: string };
}

/**
 * Test cleanup only: once the namespace's deletion reached its Rollouts, removes their
 * finalizers (a controller still running would not add them again to an object being
 * deleted).
 */
export async function releaseFinalizers(kc: KubeConfig, namespace: string): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({
    group: "aviary.dev",
    version: "v1alpha1",
    namespace,
    plural: "rollouts",
  })) as { items?: RolloutMeta[] };
  const held = (list.items ?? []).filter((item) => (item.metadata?.finalizers ?? []).length > 0);
  for (const item of held) {
    const name = item.metadata?.name ?? "";
    // The namespace controller marks them deleting shortly after the namespace.
    for (let i = 0; i < 50; i++) {
      const current = (await custom.getNamespacedCustomObject({
        group: "aviary.dev",
        version: "v1alpha1",
        namespace,
        plural: "rollouts",
        name,
      })) as RolloutMeta;
      if (current.metadata?.deletionTimestamp !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await custom.patchNamespacedCustomObject(
      {
        group: "aviary.dev",
        version: "v1alpha1",
        namespace,
        plural: "rollouts",
        name,
        body: { metadata: { finalizers: null } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }
}

/**
 * Starts a mesh simulator, registers it with Prometheus, waits for the first scrape,
 * and stops and unregisters it when the test ends.
 */
export async function startMeshSim(
  t: TestContext,
  options: Omit<MeshSimOptions, "kubeConfig">,
): Promise<MeshSim> {
  const sim = new MeshSim({ ...options, kubeConfig: kubeConfig() });
  await sim.start();
  const { prometheusTargetsFile, prometheusUrl: url } = coordinates();
  t.after(async () => {
    unregisterScrapeTarget(prometheusTargetsFile, sim.target);
    await sim.stop();
  });
  registerScrapeTarget(prometheusTargetsFile, sim.target);
  await waitForScrape(url, sim.target);
  return sim;
}

/** Has Prometheus scrape `target` (host:port) until the test ends; waits for the first scrape. */
export async function scrapeTarget(t: TestContext, target: string): Promise<void> {
  const { prometheusTargetsFile, prometheusUrl: url } = coordinates();
  t.after(() => unregisterScrapeTarget(prometheusTargetsFile, target));
  registerScrapeTarget(prometheusTargetsFile, target);
  await waitForScrape(url, target);
}
