import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { kubeconfigPath } from "./env.ts";
import { REPO_ROOT } from "./testenv.ts";

/**
 * `aviary controller` as its own process, as it runs in a cluster, so a test can SIGKILL
 * it. Its stdout and stderr (pino JSON lines) are kept for the test to read.
 */
export interface ControllerProcess {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  kill(): void;
}

interface ProcessExtra {
  args?: string[];
  env?: Record<string, string>;
  /** Elect a leader through a Lease in the watched namespace (default: no election). */
  leaderElect?: boolean;
}

export function controllerProcesses(t: TestContext): {
  start: (namespace: string, extra?: ProcessExtra) => ControllerProcess;
  logs: string[];
} {
  const logs: string[] = [];
  const running: ChildProcess[] = [];
  t.after(() => running.forEach((child) => child.kill("SIGKILL")));
  const start = (namespace: string, extra: ProcessExtra = {}) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(REPO_ROOT, "src/cli/main.ts"),
        "controller",
        "--kubeconfig",
        kubeconfigPath(),
        "--namespace",
        namespace,
        ...(extra.leaderElect === true ? ["--lease-namespace", namespace] : ["--no-leader-elect"]),
        "--metrics-port",
        "0",
        ...(extra.args ?? []),
      ],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, AVIARY_LOG_LEVEL: "debug", ...extra.env },
      },
    );
    running.push(child);
    child.stdout.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return { child, exited, kill: () => child.kill("SIGKILL") };
  };
  return { start, logs };
}
