import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { findBinaries } from "./binaries.ts";
import { startControlPlane } from "./control-plane.ts";
import { crdFiles, installCrds, readCrds } from "./crds.ts";
import {
  killGroups,
  killGroupsNow,
  recordedPids,
  startReaper,
  type ManagedProcess,
} from "./processes.ts";
import { startPrometheus } from "./prometheus.ts";

/** The coordinates tests need; also what `cluster:up` writes to .testenv/. */
export interface TestEnvInfo {
  runDir: string;
  logDir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  prometheusUrl: string;
  prometheusTargetsFile: string;
}

export interface TestEnv extends TestEnvInfo {
  /** Kills every process the environment started and removes its temp dir. */
  stop(): Promise<void>;
}

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

export interface StartOptions {
  /** Kill the environment when this process dies, however it dies (tests). Off for `cluster:up`. */
  tieToThisProcess: boolean;
  /** Keep the temp dir (logs, data) after stop. */
  keepRunDir?: boolean;
  log?: (line: string) => void;
}

export async function startTestEnv(options: StartOptions): Promise<TestEnv> {
  const log = options.log ?? (() => undefined);
  const bin = findBinaries();
  const runDir = mkdtempSync(join(tmpdir(), "aviary-testenv-"));
  const logDir = join(runDir, "logs");
  const started: ManagedProcess[] = [];
  let stopped = false;
  let reaper: ManagedProcess | undefined;
  const killNow = () => {
    if (!stopped) killGroupsNow(recordedPids(logDir));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killNow();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  if (options.tieToThisProcess) {
    process.on("exit", killNow);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  const stop = async () => {
    if (stopped) return;
    await killGroups([...recordedPids(logDir), ...(reaper ? [reaper.pid] : [])]);
    stopped = true;
    process.off("exit", killNow);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (!options.keepRunDir && process.env.AVIARY_TESTENV_KEEP !== "1")
      rmSync(runDir, { recursive: true, force: true });
  };
  const startedAt = Date.now();
  log(`test environment: starting in ${runDir} (logs in ${logDir})`);
  mkdirSync(logDir, { recursive: true });
  if (options.tieToThisProcess) reaper = startReaper(process.pid, logDir);
  try {
    const [controlPlane, prometheus] = await Promise.all([
      startControlPlane(bin, runDir, started),
      startPrometheus(bin.prometheus, runDir),
    ]);
    const kc = new KubeConfig();
    kc.loadFromFile(controlPlane.kubeconfigPath);
    await installCrds(kc, readCrds(crdFiles(REPO_ROOT, bin.assets)));
    log(`test environment: ready in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
    return {
      runDir,
      logDir,
      kubeconfigPath: controlPlane.kubeconfigPath,
      apiServerUrl: controlPlane.apiServerUrl,
      prometheusUrl: prometheus.url,
      prometheusTargetsFile: prometheus.targetsFile,
      stop,
    };
  } catch (error) {
    // Keep the logs of a failed start: they are what explains it.
    await killGroups([...recordedPids(logDir), ...(reaper ? [reaper.pid] : [])]);
    stopped = true;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `The e2e test environment failed to start (logs kept in ${logDir}):\n${message}`,
      { cause: error },
    );
  }
}
