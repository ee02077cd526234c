import { userInfo } from "node:os";
import type { Command } from "commander";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { GROUP, ROLLOUT_PLURAL, VERSION } from "../api/rollout.ts";
import { CliError } from "./errors.ts";

/** The connection flags every cluster command takes, as kubectl spells them. */
export interface ClusterFlags {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
}

export interface Cluster {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Who steering commands say asked: the kubeconfig user, else the OS user. */
  user: string;
  objects: CustomObjectsApi;
}

export function addClusterOptions(command: Command): Command {
  return command
    .option(
      "-n, --namespace <namespace>",
      "namespace of the Rollout (default: the kubeconfig context's namespace)",
    )
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use (default: the current context)");
}

export function connect(flags: ClusterFlags): Cluster {
  const kubeConfig = new KubeConfig();
  try {
    if (flags.kubeconfig === undefined) kubeConfig.loadFromDefault();
    else kubeConfig.loadFromFile(flags.kubeconfig);
  } catch (error) {
    const file = flags.kubeconfig ?? process.env.KUBECONFIG ?? "~/.kube/config";
    throw new CliError(`cannot read kubeconfig ${file}: ${messageOf(error)}`);
  }
  if (flags.context !== undefined) {
    if (kubeConfig.getContextObject(flags.context) === null) {
      const known = kubeConfig.getContexts().map((c) => c.name);
      throw new CliError(
        `context ${flags.context} is not in the kubeconfig (contexts: ${known.join(", ") || "none"})`,
      );
    }
    kubeConfig.setCurrentContext(flags.context);
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new CliError(
      "the kubeconfig has no current cluster: pass --kubeconfig or --context, or set KUBECONFIG",
    );
  }
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return {
    kubeConfig,
    namespace: flags.namespace ?? contextNamespace ?? "default",
    user: kubeConfig.getCurrentUser()?.name ?? process.env.USER ?? userInfo().username,
    objects: kubeConfig.makeApiClient(CustomObjectsApi),
  };
}

/** The coordinates of one Rollout for CustomObjectsApi calls. */
export function rolloutRef(cluster: Cluster, name: string) {
  return {
    group: GROUP,
    version: VERSION,
    plural: ROLLOUT_PLURAL,
    namespace: cluster.namespace,
    name,
  };
}

/**
 * Turns a client error into a sentence a person can act on: which Rollout is missing,
 * which RBAC permission is lacking, or that the cluster cannot be reached.
 */
export function explainKubeError(
  error: unknown,
  cluster: Cluster,
  target: { name?: string; verb: string; resource: string; all?: boolean },
): CliError {
  const code = (error as { code?: unknown }).code;
  const where = target.all === true ? "all namespaces" : `namespace ${cluster.namespace}`;
  const server = cluster.kubeConfig.getCurrentCluster()?.server ?? "the cluster";
  if (code === 404) {
    return target.name === undefined
      ? new CliError(
          `the Rollout API (${ROLLOUT_PLURAL}.${GROUP}/${VERSION}) is not installed on ${server}: install Aviary's CRDs`,
        )
      : new CliError(`rollout ${target.name} not found in ${where}`);
  }
  if (code === 401) {
    return new CliError(
      `${server} did not accept the credentials of user ${cluster.user}: log in again or check the kubeconfig`,
    );
  }
  if (code === 403) {
    const refused = new CliError(
      `user ${cluster.user} may not ${target.verb} ${target.resource} in ${where}: ` +
        `an RBAC Role must grant verb "${target.verb}" on resource "${target.resource}" in API group "${GROUP}" (${serverMessage(error)})`,
    );
    refused.status = 403;
    return refused;
  }
  if (typeof code === "number")
    return new CliError(`${server} answered ${code}: ${serverMessage(error)}`);
  return new CliError(`cannot reach the cluster at ${server}: ${networkMessage(error)}`);
}

/** The Status message the API server sent, which is what kubectl shows. */
function serverMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === "string") return status.message;
    } catch {
      // Not a Status object: show the text itself.
    }
    return body;
  }
  return messageOf(error);
}

/** fetch wraps the socket error in `cause`; that is the part that says what happened. */
function networkMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === "string")
    return `${code} (${messageOf(cause)}); is the cluster running and the kubeconfig current?`;
  if (cause instanceof Error) return `${cause.message}; check the server address in the kubeconfig`;
  return messageOf(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
