import { Command, CommanderError } from "commander";
import { registerSimulate } from "./simulate-command.ts";
import { registerController } from "./controller-command.ts";
import { registerSteering } from "./steer-command.ts";
import { registerStatus } from "./status-command.ts";
import { registerGet } from "./get-command.ts";
import { registerList } from "./list-command.ts";
import { registerLint } from "./lint-command.ts";
import { registerVersion } from "./version-command.ts";
import { CliError } from "./errors.ts";
import { invokedName } from "./program-name.ts";
import { registerCompletion } from "./completion-command.ts";
import { registerSetImage } from "./set-image-command.ts";
import { registerDashboard } from "./dashboard-command.ts";

/** `aviary` (also `kubectl aviary`): steer and inspect Rollouts, and simulate releases. */
export function buildProgram(): Command {
  const program = new Command(invokedName())
    .description(
      "Progressive delivery for Kubernetes: canary and blue/green releases gated on golden signals",
    )
    .option("--verbose", "on an unexpected error, print its stack trace too")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerSimulate(program);
  registerController(program);
  registerSteering(program);
  registerStatus(program);
  registerGet(program);
  registerList(program);
  registerLint(program);
  registerSetImage(program);
  registerDashboard(program);
  registerVersion(program);
  // Last: completion describes every command registered before it.
  registerCompletion(program);
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
    // One sentence for a person; the stack only when asked for.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`aviary: unexpected error: ${firstLine(message)}\n`);
    if (argv.includes("--verbose") && error instanceof Error && error.stack !== undefined)
      process.stderr.write(`${error.stack}\n`);
    else process.stderr.write("(run with --verbose for details)\n");
    return 1;
  }
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? text).trim();
}
