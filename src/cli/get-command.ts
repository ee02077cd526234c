import { Option, type Command } from "commander";
import { addClusterOptions, connect, type ClusterFlags } from "./kube-client.ts";
import { CliError } from "./errors.ts";
import { runLiveView } from "./live/live-view.ts";
import { outputOption, printObject, type OutputFormat } from "./output-format.ts";
import { duration, readRolloutObject } from "./status-command.ts";
import { formatStatus, viewOf } from "./status-format.ts";

interface GetFlags extends ClusterFlags {
  watch?: boolean;
  output?: OutputFormat;
  color: boolean;
  timeout?: number;
}

/** `aviary get <rollout>`: the status once, the object (-o json|yaml), or a live view (--watch). */
export function registerGet(program: Command): void {
  addClusterOptions(
    program
      .command("get")
      .description(
        "show a Rollout; with --watch, a live view redrawn on every change (q or Ctrl-C to leave)",
      )
      .argument("<rollout>", "name of the Rollout")
      .option(
        "-w, --watch",
        "follow the Rollout, its ReplicaSets and Events live (one line per change when not a terminal)",
      )
      .addOption(outputOption())
      .option("--no-color", "no colors in the live view (also when NO_COLOR is set)")
      .addOption(
        new Option(
          "--timeout <duration>",
          "stop watching after this long (default: until interrupted)",
        ).argParser(duration),
      ),
  ).action(async (name: string, flags: GetFlags) => {
    const cluster = connect(flags);
    const object = await readRolloutObject(cluster, name);
    if (flags.watch === true) {
      if (flags.output !== undefined)
        throw new CliError(
          "--watch draws a live view; drop -o, or drop --watch to print the object",
        );
      const color = flags.color && process.stdout.isTTY && !("NO_COLOR" in process.env);
      await runLiveView(cluster, name, { color, timeoutMs: flags.timeout });
      return;
    }
    process.stdout.write(
      flags.output === undefined
        ? `${formatStatus(viewOf(object))}\n`
        : printObject(object, flags.output),
    );
  });
}
