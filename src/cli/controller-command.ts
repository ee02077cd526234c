import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { runController, splitList, type ControllerFlags } from "../main.ts";

/** `aviary controller`: runs the controller in this process against the current kubeconfig. */
export function registerController(program: Command): void {
  program
    .command("controller")
    .description("run the Aviary controller against KUBECONFIG (or --kubeconfig)")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--namespace <name>", "watch only this namespace (env AVIARY_NAMESPACE; default: all)")
    .option(
      "--namespaces <list>",
      "watch only these namespaces, comma-separated (env AVIARY_NAMESPACES; default: all)",
      namespaceList,
    )
    .option(
      "--instance-id <id>",
      "reconcile only Rollouts labelled aviary.dev/instance-id=<id>; without it, only Rollouts without that label (env AVIARY_INSTANCE_ID)",
    )
    .option(
      "--selector <labels>",
      'reconcile only Rollouts matching this label selector, e.g. "team=shop" (env AVIARY_SELECTOR)',
    )
    .option(
      "--metrics-port <port>",
      "port of /healthz, /readyz and /metrics (env AVIARY_METRICS_PORT)",
      port,
    )
    .option("--no-leader-elect", "run without leader election (a single replica only)")
    .option(
      "--lease-namespace <name>",
      "namespace of the leader Lease (env AVIARY_LEASE_NAMESPACE)",
    )
    .option(
      "--prometheus <url>",
      "Prometheus address for Rollouts that name none (env AVIARY_PROMETHEUS_ADDRESS)",
    )
    .option(
      "--slack-channel <channel>",
      "Slack channel for Rollouts that name none (env AVIARY_SLACK_CHANNEL; the webhook URL itself only from env AVIARY_SLACK_WEBHOOK_URL)",
    )
    .option(
      "--notify-give-up-after <duration>",
      'stop retrying a notification this long after its first failure, e.g. "1h" (env AVIARY_NOTIFY_GIVE_UP_AFTER; default 1h)',
    )
    .action(async (flags: ControllerFlags) => {
      await runController(flags);
    });
}

function namespaceList(value: string): string[] {
  const list = splitList(value);
  if (list.length === 0)
    throw new InvalidArgumentError(`"${value}" names no namespace (give e.g. --namespaces a,b)`);
  return list;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  return n;
}
