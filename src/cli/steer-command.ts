import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Option, type Command as Program } from "commander";
import { z } from "zod";
import { RolloutStatus } from "../api/rollout.ts";
import { CliError } from "./errors.ts";
import { steeringRefusal } from "./steer-check.ts";
import { duration } from "./status-command.ts";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Command, CommandName } from "../api/rollout.ts";
import {
  addClusterOptions,
  connect,
  explainKubeError,
  rolloutRef,
  type Cluster,
  type ClusterFlags,
} from "./kube-client.ts";

/**
 * Steering: each command merge-patches only `status.command` through the status
 * subresource. Steering thus needs only `patch` on `rollouts/status`, and Argo CD never
 * sees a change to spec. The controller executes each command id once.
 */

const STEERING: readonly { command: string; description: string }[] = [
  {
    command: "abort",
    description: "roll back: return all traffic to stable and scale the canary down",
  },
  { command: "retry", description: "start an aborted release again from its first step" },
  { command: "pause", description: "hold the release at its current step until `resume`" },
  { command: "resume", description: "continue a release held by `pause`" },
];

/** A new command with an id that is unique per request (time + random), so it runs once. */
export function steeringCommand(
  name: CommandName,
  user: string,
  now: Date,
  random = randomBytes(4).toString("hex"),
): Command {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return { name, id: `${stamp}-${random}`, requestedAt: now.toISOString(), requestedBy: user };
}

interface SteerFlags extends ClusterFlags {
  wait: number;
}

/** How long a steering command waits for the controller's answer by default. */
const DEFAULT_WAIT_MS = 5000;
const WAIT_POLL_MS = 500;

function waitOption(): Option {
  return new Option(
    "--wait <duration>",
    "how long to wait for the controller's answer (0: do not wait)",
  )
    .argParser(duration)
    .default(DEFAULT_WAIT_MS, "5s");
}

export function registerSteering(program: Program): void {
  addClusterOptions(
    program
      .command("promote")
      .description(
        "advance a paused release to its next step (with --full: skip the remaining steps and analysis)",
      )
      .argument("<rollout>", "name of the Rollout")
      .option("--full", "promote to 100% now, skipping the remaining steps and analysis")
      .addOption(waitOption()),
  ).action(async (name: string, flags: SteerFlags & { full?: boolean }) => {
    await requestCommand(name, flags.full === true ? "promoteFull" : "promote", flags);
  });
  for (const { command, description } of STEERING) {
    addClusterOptions(
      program
        .command(command)
        .description(description)
        .argument("<rollout>", "name of the Rollout")
        .addOption(waitOption()),
    ).action(async (name: string, flags: SteerFlags) => {
      await requestCommand(name, command as CommandName, flags);
    });
  }
}

/** The controller's answer to a command id (status.commandResult), read loosely: older controllers write none. */
const CommandResult = z.object({
  id: z.string(),
  outcome: z.enum(["Executed", "Ignored"]),
  message: z.string().optional(),
});

interface Seen {
  status: RolloutStatus;
  result: z.output<typeof CommandResult> | undefined;
}

/** The Rollout's status, or undefined when this user may not read it (steering needs only patch). */
async function readStatus(cluster: Cluster, name: string): Promise<Seen | undefined> {
  let object: unknown;
  try {
    object = await cluster.objects.getNamespacedCustomObject(rolloutRef(cluster, name));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 403) return undefined;
    throw explainKubeError(error, cluster, { name, verb: "get", resource: "rollouts" });
  }
  const raw = (object as { status?: unknown }).status ?? {};
  const status = RolloutStatus.safeParse(raw);
  const result = CommandResult.safeParse((raw as { commandResult?: unknown }).commandResult);
  return {
    status: status.success ? status.data : {},
    result: result.success ? result.data : undefined,
  };
}

/** Waits briefly for the controller to handle the command; undefined when it did not answer in time. */
async function answerTo(
  cluster: Cluster,
  name: string,
  id: string,
  waitMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
    const seen = await readStatus(cluster, name);
    if (seen === undefined) return undefined;
    if (seen.result?.id === id) {
      const message = seen.result.message === undefined ? "" : `: ${seen.result.message}`;
      if (seen.result.outcome === "Ignored")
        throw new CliError(`the controller ignored ${id}${message}`);
      return `the controller executed it${message}`;
    }
    if (seen.status.lastCommandId === id) return "the controller executed it";
  }
  return undefined;
}

async function requestCommand(
  name: string,
  commandName: CommandName,
  flags: SteerFlags,
): Promise<void> {
  const cluster = connect(flags);
  process.stdout.write(`${await steer(cluster, name, commandName, flags.wait)}\n`);
}

/**
 * Writes one steering command to `status.command` of a Rollout in `cluster.namespace`,
 * with the cluster's (the user's) credentials, and waits up to `waitMs` for the
 * controller's answer. Returns the sentence to show; throws a CliError a person can read
 * (a refusal, an ignored command, a missing permission). The CLI and the dashboard both
 * steer through here, so they write exactly the same thing.
 */
export async function steer(
  cluster: Cluster,
  name: string,
  commandName: CommandName,
  waitMs: number,
): Promise<string> {
  const before = await readStatus(cluster, name);
  const refusal =
    before === undefined ? undefined : steeringRefusal(commandName, name, before.status);
  if (refusal !== undefined) throw new CliError(refusal);
  const command = steeringCommand(commandName, cluster.user, new Date());
  try {
    await cluster.objects.patchNamespacedCustomObjectStatus(
      { ...rolloutRef(cluster, name), body: { status: { command } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  } catch (error) {
    throw explainKubeError(error, cluster, { name, verb: "patch", resource: "rollouts/status" });
  }
  const requested = `${commandName} requested for ${cluster.namespace}/${name} (id ${command.id})`;
  const answer =
    before === undefined || waitMs === 0
      ? undefined
      : await answerTo(cluster, name, command.id, waitMs);
  return answer === undefined
    ? `${requested}; the controller executes it once (no answer yet)`
    : `${requested}; ${answer}`;
}
