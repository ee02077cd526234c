import type { Problem } from "../core/plan.ts";

/** An error meant for a person: printed as is, without a stack trace, exit code 1. */
export class CliError extends Error {
  /** The API server's HTTP status when that is what failed (the dashboard answers with it). */
  status: number | undefined;

  static fromProblems(source: string, problems: readonly Problem[]): CliError {
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
    return new CliError(
      `${source} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${lines.join("\n")}`,
    );
  }
}
