import { readFileSync } from "node:fs";
import { CommanderError, InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_LINT_OPTIONS } from "../lint/context.ts";
import { formatJson, formatText, toSarif } from "../lint/format.ts";
import { ALL_RULES, exitCode, lint, strict } from "../lint/lint.ts";
import { loadManifests } from "../lint/manifests.ts";
import { meshDurationMs } from "../lint/mesh-objects.ts";

/**
 * `aviary lint`: checks Rollouts and the mesh objects beside them, together and offline.
 * Exit 0 when clean, 1 on errors, 2 on warnings only; --strict turns warnings into errors.
 */
interface LintFlags {
  output: "text" | "json" | "sarif";
  strict?: boolean;
  maxTimeout: number;
}

export function registerLint(program: Command): void {
  program
    .command("lint")
    .description(
      "check Rollouts and their Services, VirtualServices, DestinationRules, HTTPRoutes and PeerAuthentications offline; exit 0 clean, 1 errors, 2 warnings only",
    )
    .argument("<path...>", "YAML or JSON files, or directories (read recursively)")
    .addOption(
      new Option("-o, --output <format>", "text, json or sarif (SARIF 2.1.0 for code scanning)")
        .choices(["text", "json", "sarif"])
        .default("text"),
    )
    .option("--strict", "treat warnings as errors (exit 1)")
    .addOption(
      new Option("--max-timeout <duration>", "longest route timeout without a warning")
        .argParser(timeout)
        .default(DEFAULT_LINT_OPTIONS.maxTimeoutMs, "15s"),
    )
    .action(async (paths: string[], flags: LintFlags) => {
      const result = lint(await loadManifests(paths), { maxTimeoutMs: flags.maxTimeout });
      if (flags.strict === true) result.findings = strict(result.findings);
      process.stdout.write(
        flags.output === "json"
          ? formatJson(result)
          : flags.output === "sarif"
            ? `${JSON.stringify(toSarif(result, ALL_RULES, packageVersion()), null, 2)}\n`
            : formatText(result),
      );
      const code = exitCode(result.findings);
      if (code !== 0) throw new CommanderError(code, "aviary.lint", "lint findings");
    });
}

function timeout(text: string): number {
  const ms = meshDurationMs(text);
  if (ms === undefined) throw new InvalidArgumentError('must be a duration such as "15s" or "1m"');
  return ms;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "0.0.0";
}
