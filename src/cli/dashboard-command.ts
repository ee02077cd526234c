import { InvalidArgumentError, type Command } from "commander";
import { startDashboard } from "../dashboard/server.ts";
import { addClusterOptions, connect, type ClusterFlags } from "./kube-client.ts";

interface DashboardFlags extends ClusterFlags {
  port: number;
  address: string;
  prometheus?: string;
  readOnly?: boolean;
}

/** `aviary dashboard`: the web dashboard, on loopback, with the user's own kubeconfig. */
export function registerDashboard(program: Command): void {
  addClusterOptions(
    program
      .command("dashboard")
      .description(
        "serve a web dashboard of Rollouts (live charts, steering buttons) with your kubeconfig's credentials",
      )
      .option("--port <port>", "port to listen on (0: any free port)", port, 3100)
      .option(
        "--address <address>",
        "address to listen on; keep loopback unless others must reach it",
        "127.0.0.1",
      )
      .option(
        "--prometheus <url>",
        "Prometheus address for Rollouts whose analysis names none, as the controller's flag (env AVIARY_PROMETHEUS_ADDRESS)",
      )
      .option("--read-only", "show the buttons disabled and refuse every command"),
  ).action(async (flags: DashboardFlags) => {
    const cluster = connect(flags);
    const dashboard = await startDashboard({
      kubeConfig: cluster.kubeConfig,
      port: flags.port,
      address: flags.address,
      namespace: cluster.namespace,
      prometheusAddress: flags.prometheus ?? process.env.AVIARY_PROMETHEUS_ADDRESS,
      readOnly: flags.readOnly === true,
    });
    process.stdout.write(`Aviary dashboard on ${dashboard.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await dashboard.close();
  });
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  return n;
}
