import { KubeConfig } from "@kubernetes/client-node";
import { pino, type DestinationStream, type Logger } from "pino";
import { startController } from "./kube/controller.ts";
import { durationMs } from "./api/duration.ts";
import { reuseConnections } from "./kube/reuse-connections.ts";
import { REDACT_PATHS, REDACTED } from "./notify/redaction.ts";

/** The `aviary controller` flags (src/cli/controller-command.ts parses them). */
export interface ControllerFlags {
  kubeconfig?: string | undefined;
  namespace?: string | undefined;
  namespaces?: string[] | undefined;
  instanceId?: string | undefined;
  selector?: string | undefined;
  metricsPort?: number | undefined;
  leaderElect?: boolean | undefined;
  leaseNamespace?: string | undefined;
  prometheus?: string | undefined;
  slackChannel?: string | undefined;
  notifyGiveUpAfter?: string | undefined;
}

/** The controller's JSON logger. Webhook URLs and signing keys are credentials: censored wherever a log line could carry one. */
export function controllerLogger(level: string, destination?: DestinationStream): Logger {
  const options = { name: "aviary", level, redact: { paths: REDACT_PATHS, censor: REDACTED } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * Composition root of the controller: reads flags and environment, connects to the
 * cluster, and runs until SIGTERM/SIGINT, when it stops reconciling and releases the
 * leader Lease so a standby takes over at once.
 */
export async function runController(flags: ControllerFlags = {}): Promise<void> {
  const env = process.env;
  const log = controllerLogger(env.AVIARY_LOG_LEVEL ?? "info");
  const kubeConfig = new KubeConfig();
  if (flags.kubeconfig !== undefined) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromDefault();
  reuseConnections(kubeConfig);
  const namespaces = watchedNamespaces(flags, env);
  const leaderElect = (flags.leaderElect ?? true) && env.AVIARY_LEADER_ELECT !== "false";
  const leaseNamespace =
    flags.leaseNamespace ??
    env.AVIARY_LEASE_NAMESPACE ??
    env.POD_NAMESPACE ??
    namespaces[0] ??
    "default";
  const metricsPort = flags.metricsPort ?? numberOr(env.AVIARY_METRICS_PORT, 8080);
  const instanceId = flags.instanceId ?? emptyToUndefined(env.AVIARY_INSTANCE_ID);
  const selector = flags.selector ?? emptyToUndefined(env.AVIARY_SELECTOR);
  const handle = await startController({
    kubeConfig,
    namespaces,
    instanceId,
    selector,
    prometheusAddress: flags.prometheus ?? emptyToUndefined(env.AVIARY_PROMETHEUS_ADDRESS),
    leaderElection: leaderElect
      ? { namespace: leaseNamespace, identity: env.POD_NAME, ...leaseTimings(env) }
      : false,
    metricsPort,
    processMetrics: true,
    clusterName: emptyToUndefined(env.AVIARY_CLUSTER_NAME),
    notifications: {
      slack: {
        webhookUrl: emptyToUndefined(env.AVIARY_SLACK_WEBHOOK_URL),
        channel: flags.slackChannel ?? emptyToUndefined(env.AVIARY_SLACK_CHANNEL),
      },
      webhook: {
        url: emptyToUndefined(env.AVIARY_WEBHOOK_URL),
        signingKey: emptyToUndefined(env.AVIARY_WEBHOOK_SIGNING_KEY),
      },
      giveUpAfterMs: durationOr(
        flags.notifyGiveUpAfter ?? emptyToUndefined(env.AVIARY_NOTIFY_GIVE_UP_AFTER),
        "AVIARY_NOTIFY_GIVE_UP_AFTER",
      ),
    },
    log,
  });
  log.info(
    {
      cluster: kubeConfig.getCurrentCluster()?.server,
      namespaces: namespaces.length === 0 ? "(all)" : namespaces.join(","),
      metricsPort: handle.metricsPort,
      leaderElect,
      instanceId: instanceId ?? "(none)",
      selector: selector ?? "(none)",
    },
    "aviary controller started",
  );
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, "shutting down");
      handle.stop().then(resolve, (error: unknown) => {
        log.error({ err: String(error) }, "error while shutting down");
        resolve();
      });
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
}

/**
 * The namespaces to watch: the flags (--namespaces a,b and --namespace a) when any is
 * given, else the environment (AVIARY_NAMESPACES=a,b and AVIARY_NAMESPACE=a). Empty: all.
 */
export function watchedNamespaces(flags: ControllerFlags, env: NodeJS.ProcessEnv): string[] {
  const fromFlags = [...(flags.namespaces ?? []), ...(flags.namespace ? [flags.namespace] : [])];
  const chosen =
    fromFlags.length > 0
      ? fromFlags
      : [...splitList(env.AVIARY_NAMESPACES), ...splitList(env.AVIARY_NAMESPACE)];
  return [...new Set(chosen)];
}

/**
 * The leader Lease's timings, as client-go's --leader-elect-lease-duration,
 * -renew-deadline and -retry-period: AVIARY_LEASE_DURATION (default 15s),
 * AVIARY_LEASE_RENEW_DEADLINE (10s), AVIARY_LEASE_RETRY_PERIOD (2s). Shorter ones move
 * leadership sooner after a replica dies, at the price of more Lease writes.
 */
export function leaseTimings(env: NodeJS.ProcessEnv): {
  leaseMs?: number;
  renewMs?: number;
  retryMs?: number;
} {
  const leaseMs = durationOr(emptyToUndefined(env.AVIARY_LEASE_DURATION), "AVIARY_LEASE_DURATION");
  const renewMs = durationOr(
    emptyToUndefined(env.AVIARY_LEASE_RENEW_DEADLINE),
    "AVIARY_LEASE_RENEW_DEADLINE",
  );
  const retryMs = durationOr(
    emptyToUndefined(env.AVIARY_LEASE_RETRY_PERIOD),
    "AVIARY_LEASE_RETRY_PERIOD",
  );
  if (leaseMs !== undefined && renewMs !== undefined && renewMs >= leaseMs)
    throw new Error(
      "AVIARY_LEASE_RENEW_DEADLINE must be shorter than AVIARY_LEASE_DURATION (a leader must give up before others may take over)",
    );
  return {
    ...(leaseMs === undefined ? {} : { leaseMs }),
    ...(renewMs === undefined ? {} : { renewMs }),
    ...(retryMs === undefined ? {} : { retryMs }),
  };
}

export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** A Go-style duration ("1h", "90m"); a bad one stops the start with a clear message. */
function durationOr(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return durationMs(value);
  } catch (error) {
    throw new Error(
      `${name}${name === "AVIARY_NOTIFY_GIVE_UP_AFTER" ? " / --notify-give-up-after" : ""}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function numberOr(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value === undefined || value === "" || !Number.isInteger(n) ? fallback : n;
}
