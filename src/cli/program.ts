import { Command, CommanderError } from "commander";
import { registerSimulate } from "./simulate-command.ts";
import { registerController } from "./controller-command.ts";
import { registerSteering } from "./steer-command.ts";
import { registerStatus } from "./status-command.ts";
import { registerLint } from "./lint-command.ts";
import { registerVersion } from "./version-command.ts";
import { CliError } from "./errors.ts";
import { invokedName } from "./program-name.ts";

/** `aviary` (also `kubectl aviary`): steer and inspect Rollouts, and simulate releases. */
export function buildProgram(): Command {
  const program = new Command(invokedName())
    .description(
      "Progressive delivery for Kubernetes: canary and blue/green releases gated on golden signals",
    )
    .showHelpAfterError()
    .exitOverride();
  registerSimulate(program);
  registerController(program);
  registerSteering(program);
  registerStatus(program);
  registerLint(program);
  registerVersion(program);
  return program;
}

export async function run(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      process.stderr.write(`aviary: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(
      `aviary: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}
