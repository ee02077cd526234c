import type { CommandName, RolloutStatus } from "../api/rollout.ts";

/**
 * Whether a steering command can do anything now, judged from the status the CLI read:
 * a person is told at once instead of "requested" and nothing happening. The controller
 * still decides (it answers in status.commandResult); this only catches the plain cases.
 */
export function steeringRefusal(
  command: CommandName,
  name: string,
  status: RolloutStatus,
): string | undefined {
  if (status.phase === undefined) return undefined; // Not reconciled yet: let the controller judge.
  const releasing =
    status.canaryHash !== undefined &&
    status.canaryHash !== status.stableHash &&
    status.phase !== "Healthy";
  const aborted = status.abortedAt !== undefined || status.phase === "Aborted";
  const idle = `rollout ${name} is ${status.phase} with no release in progress`;
  switch (command) {
    case "promote":
    case "promoteFull":
      if (!releasing) return `nothing to promote: ${idle}`;
      if (aborted)
        return `rollout ${name} was aborted: start it again with \`aviary retry ${name}\``;
      return undefined;
    case "abort":
      if (!releasing) return `nothing to abort: ${idle}`;
      if (aborted) return `rollout ${name} is already aborted`;
      return undefined;
    case "retry":
      if (!aborted)
        return `only an aborted release can be retried, and rollout ${name} is ${status.phase}`;
      return undefined;
    case "pause":
      if (status.manualPause === true) return `rollout ${name} is already paused`;
      return undefined;
    case "resume":
      if (status.manualPause !== true)
        return `rollout ${name} is not paused by \`aviary pause\`, so there is nothing to resume`;
      return undefined;
  }
}
