import type { Command } from "commander";
import { formatVersion, versionInfo } from "./version.ts";

/** `aviary version`: the package version, the git commit when known, and the Node version. */
export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print the Aviary version, the git commit it was built from, and the Node version")
    .option("--json", "print one JSON object")
    .action((flags: { json?: boolean }) => {
      const info = versionInfo();
      process.stdout.write(flags.json === true ? `${JSON.stringify(info)}\n` : formatVersion(info));
    });
}
