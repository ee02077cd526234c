import { readFile } from "node:fs/promises";
import { CommanderError, type Command } from "commander";
import { parseRolloutText } from "../api/load.ts";

/**
 * `aviary lint`: checks Rollout files offline, with the same parser the controller uses,
 * and prints every problem with its field path. Exit 1 when any file has a problem.
 */
export function registerLint(program: Command): void {
  program
    .command("lint")
    .description("check Rollout YAML files offline and print every problem with its field path")
    .argument("<file...>", "files holding a Rollout (other documents in a file are ignored)")
    .action(async (files: string[]) => {
      let failed = 0;
      for (const file of files) {
        const report = await lintFile(file);
        if (report.ok) process.stdout.write(`${file}: ok\n`);
        else {
          failed += 1;
          process.stdout.write(
            `${file}: ${report.lines.length} problem${report.lines.length === 1 ? "" : "s"}\n`,
          );
          process.stdout.write(report.lines.map((line) => `  ${line}\n`).join(""));
        }
      }
      if (failed > 0) {
        process.stderr.write(
          `aviary: ${failed} of ${files.length} file${files.length === 1 ? "" : "s"} ha${failed === 1 ? "s" : "ve"} problems\n`,
        );
        throw new CommanderError(1, "aviary.lint", "lint problems");
      }
    });
}

async function lintFile(file: string): Promise<{ ok: true } | { ok: false; lines: string[] }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return {
      ok: false,
      lines: [`cannot read the file: ${error instanceof Error ? error.message : String(error)}`],
    };
  }
  const parsed = parseRolloutText(text, file);
  if (parsed.ok) return { ok: true };
  return { ok: false, lines: parsed.problems.map((p) => `${p.path}: ${p.message}`) };
}
