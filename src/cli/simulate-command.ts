import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import { parseRolloutText } from "../api/load.ts";
import { DEFAULT_SIMULATION, simulate } from "../sim/simulate.ts";
import { SCENARIOS, type ScenarioName } from "../sim/scenarios.ts";
import { formatSimulation } from "./format.ts";
import { CliError } from "./errors.ts";

interface SimulateFlags {
  scenario: ScenarioName;
  canaryErrorRate?: number;
  stableErrorRate?: number;
  rps?: number;
  seed: number;
  json?: boolean;
}

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description(
      "release a Rollout in a simulated cluster and mesh, and print the timeline and outcome",
    )
    .argument("<rollout.yaml>", "a file holding one Rollout (other documents in it are ignored)")
    .addOption(
      new Option("--scenario <name>", "how the new version behaves")
        .choices(SCENARIOS)
        .default("healthy"),
    )
    .option("--canary-error-rate <rate>", "canary error rate, 0..1 (overrides the scenario)", rate)
    .option("--stable-error-rate <rate>", "stable error rate, 0..1 (overrides the scenario)", rate)
    .option("--rps <n>", "requests per second to the service", nonNegative)
    .option("--seed <n>", "random seed; the same seed replays the same run", integer, 1)
    .option("--json", "print the result as JSON")
    .action(async (file: string, flags: SimulateFlags) => {
      const text = await readFile(file, "utf8").catch((error: unknown) => {
        throw new CliError(
          `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      const parsed = parseRolloutText(text, file);
      if (!parsed.ok) throw CliError.fromProblems(file, parsed.problems);
      const result = await simulate(parsed.rollout, [], {
        ...DEFAULT_SIMULATION,
        scenario: flags.scenario,
        rps: flags.rps,
        canaryErrorRate: flags.canaryErrorRate,
        stableErrorRate: flags.stableErrorRate,
        seed: flags.seed,
      });
      process.stdout.write(
        flags.json === true
          ? `${JSON.stringify(result, null, 2)}\n`
          : `${formatSimulation(result)}\n`,
      );
    });
}

function rate(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new InvalidArgumentError("must be a number from 0 to 1, e.g. 0.05 for 5%");
  return value;
}

function nonNegative(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError("must be a number ≥ 0");
  return value;
}

function integer(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value)) throw new InvalidArgumentError("must be a whole number");
  return value;
}
