import type { Command } from "commander";
import tab from "@bomb.sh/tab/commander";

/**
 * `aviary completion bash|zsh|fish` prints a script for the shell; the script asks
 * `aviary complete -- <words>` for suggestions, which @bomb.sh/tab answers from the
 * commander program itself (commands, options, choices), so completion never lags
 * behind the commands. Written by hand, three scripts would have to be kept in step.
 */
export function registerCompletion(program: Command): void {
  tab(program, { completionCommandName: "completion" });
}
