import type { Command } from "commander";
import {
  addClusterOptions,
  connect,
  explainKubeError,
  rolloutRef,
  type ClusterFlags,
} from "./kube-client.ts";
import { outputOption, printList, type OutputFormat } from "./output-format.ts";
import { formatList, viewOf } from "./status-format.ts";

interface ListFlags extends ClusterFlags {
  allNamespaces?: boolean;
  output?: OutputFormat;
}

/** `aviary list`: the Rollouts of a namespace (or, with -A, of all), as a table or as objects. */
export function registerList(program: Command): void {
  addClusterOptions(
    program
      .command("list")
      .description("list the Rollouts in a namespace (-A: in all namespaces)")
      .option("-A, --all-namespaces", "list the Rollouts of every namespace")
      .addOption(outputOption()),
  ).action(async (flags: ListFlags) => {
    const cluster = connect(flags);
    const ref = rolloutRef(cluster, "");
    const all = flags.allNamespaces === true;
    const request = { group: ref.group, version: ref.version, plural: ref.plural };
    const list = (await (
      all
        ? cluster.objects.listClusterCustomObject(request)
        : cluster.objects.listNamespacedCustomObject({ ...request, namespace: ref.namespace })
    ).catch((error: unknown) => {
      throw explainKubeError(error, cluster, { verb: "list", resource: "rollouts", all });
    })) as { items?: unknown[] };
    const items = list.items ?? [];
    if (flags.output !== undefined) {
      process.stdout.write(printList(items, flags.output));
      return;
    }
    const views = items
      .map(viewOf)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    process.stdout.write(`${formatList(views, new Date(), { namespaces: all })}\n`);
  });
}
