import { randomBytes } from "node:crypto";
import type { Command as Program } from "commander";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Command, CommandName } from "../api/rollout.ts";
import {
  addClusterOptions,
  connect,
  explainKubeError,
  rolloutRef,
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

export function registerSteering(program: Program): void {
  addClusterOptions(
    program
      .command("promote")
      .description(
        "advance a paused release to its next step (with --full: skip the remaining steps and analysis)",
      )
      .argument("<rollout>", "name of the Rollout")
      .option("--full", "promote to 100% now, skipping the remaining steps and analysis"),
  ).action(async (name: string, flags: ClusterFlags & { full?: boolean }) => {
    await requestCommand(name, flags.full === true ? "promoteFull" : "promote", flags);
  });
  for (const { command, description } of STEERING) {
    addClusterOptions(
      program
        .command(command)
        .description(description)
        .argument("<rollout>", "name of the Rollout"),
    ).action(async (name: string, flags: ClusterFlags) => {
      await requestCommand(name, command as CommandName, flags);
    });
  }
}

async function requestCommand(
  name: string,
  commandName: CommandName,
  flags: ClusterFlags,
): Promise<void> {
  const cluster = connect(flags);
  const command = steeringCommand(commandName, cluster.user, new Date());
  try {
    await cluster.objects.patchNamespacedCustomObjectStatus(
      { ...rolloutRef(cluster, name), body: { status: { command } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  } catch (error) {
    throw explainKubeError(error, cluster, { name, verb: "patch", resource: "rollouts/status" });
  }
  process.stdout.write(
    `${commandName} requested for ${cluster.namespace}/${name} (id ${command.id}); the controller executes it once\n`,
  );
}
