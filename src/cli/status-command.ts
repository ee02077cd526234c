import { setTimeout as sleep } from "node:timers/promises";
import { CommanderError, InvalidArgumentError, Option, type Command } from "commander";
import { durationMs } from "../api/duration.ts";
import {
  addClusterOptions,
  connect,
  explainKubeError,
  rolloutRef,
  type Cluster,
  type ClusterFlags,
} from "./kube-client.ts";
import { formatProgressLine, formatStatus, viewOf, type RolloutView } from "./status-format.ts";

interface StatusFlags extends ClusterFlags {
  watch?: boolean;
  timeout: number;
}

/** How often --watch reads the Rollout. Polling a single object is cheap and survives API restarts. */
const WATCH_POLL_MS = 1000;

/** Exit codes of `status --watch`, for CI pipelines. */
export const EXIT_HEALTHY = 0;
export const EXIT_FAILED = 1;
export const EXIT_TIMEOUT = 2;

export function registerStatus(program: Command): void {
  addClusterOptions(
    program
      .command("status")
      .description(
        "show a Rollout's phase, step, weight, versions and analysis; with --watch, wait for the outcome (for CI)",
      )
      .argument("<rollout>", "name of the Rollout")
      .option(
        "-w, --watch",
        "block until Healthy (exit 0), Degraded or Aborted (exit 1), or the timeout (exit 2)",
      )
      .addOption(
        new Option("--timeout <duration>", "how long --watch waits, e.g. 10m or 1h30m")
          .argParser(duration)
          .default(durationMs("10m"), "10m"),
      ),
  ).action(async (rollout: string, flags: StatusFlags) => {
    const cluster = connect(flags);
    if (flags.watch === true) await watchStatus(cluster, rollout, flags.timeout);
    else process.stdout.write(`${formatStatus(await readRollout(cluster, rollout))}\n`);
  });
}

async function readRollout(cluster: Cluster, name: string): Promise<RolloutView> {
  return viewOf(await readRolloutObject(cluster, name));
}

/** The Rollout as the API server returns it; a missing one or a refusal becomes one sentence. */
export async function readRolloutObject(cluster: Cluster, name: string): Promise<unknown> {
  try {
    return (await cluster.objects.getNamespacedCustomObject(rolloutRef(cluster, name))) as unknown;
  } catch (error) {
    throw explainKubeError(error, cluster, { name, verb: "get", resource: "rollouts" });
  }
}

/** Prints the status, then a line per change, until the release ends or the time is up. */
async function watchStatus(cluster: Cluster, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let view = await readRollout(cluster, name);
  process.stdout.write(`${formatStatus(view)}\n\n`);
  let last = formatProgressLine(view);
  process.stdout.write(`${last}\n`);
  for (;;) {
    const phase = view.status.phase;
    if (phase === "Healthy") {
      process.stdout.write(`${cluster.namespace}/${name} is Healthy\n`);
      return;
    }
    if (phase === "Degraded" || phase === "Aborted") {
      process.stderr.write(
        `aviary: ${cluster.namespace}/${name} is ${phase}${view.status.message ? `: ${view.status.message}` : ""}\n`,
      );
      throw new CommanderError(EXIT_FAILED, "aviary.failed", `rollout ${phase}`);
    }
    if (Date.now() >= deadline) {
      process.stderr.write(
        `aviary: timed out waiting for ${cluster.namespace}/${name}; it is still ${phase ?? "not reconciled"}\n`,
      );
      throw new CommanderError(EXIT_TIMEOUT, "aviary.timeout", "timed out");
    }
    await sleep(Math.min(WATCH_POLL_MS, Math.max(0, deadline - Date.now())));
    view = await readRollout(cluster, name);
    const line = formatProgressLine(view);
    if (line !== last) process.stdout.write(`${line}\n`);
    last = line;
  }
}

export function duration(text: string): number {
  try {
    return durationMs(text);
  } catch {
    throw new InvalidArgumentError('must be a duration such as "90s", "10m" or "1h30m"');
  }
}
