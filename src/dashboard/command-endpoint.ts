import type { IncomingMessage, ServerResponse } from "node:http";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { CommandName } from "../api/rollout.ts";
import { CliError } from "../cli/errors.ts";
import type { Cluster } from "../cli/kube-client.ts";
import { steer } from "../cli/steer-command.ts";
import { readBody, SECURITY_HEADERS } from "./http-guards.ts";
import type { CommandAnswer } from "./wire.ts";

export interface CommandDeps {
  kubeConfig: KubeConfig;
  user: string;
  readOnly: boolean;
  commandWaitMs: number;
  log: Logger;
}

/**
 * POST /api/rollouts/<ns>/<name>/commands: the CLI's steering (promote, abort...) with the
 * user's credentials, answered with what the controller said or why it was refused.
 */
export async function runCommand(
  deps: CommandDeps,
  req: IncomingMessage,
  res: ServerResponse,
  namespace: string,
  name: string,
): Promise<void> {
  const answer = (status: number, body: CommandAnswer): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (deps.readOnly) {
    answer(403, { ok: false, message: "this dashboard is read-only (started with --read-only)" });
    return;
  }
  let requested: unknown;
  try {
    requested = (JSON.parse(await readBody(req)) as { command?: unknown }).command;
  } catch {
    answer(400, { ok: false, message: 'the request body must be JSON: {"command": ...}' });
    return;
  }
  const parsed = CommandName.safeParse(requested);
  if (!parsed.success) {
    answer(400, { ok: false, message: `unknown command ${JSON.stringify(requested)}` });
    return;
  }
  const cluster: Cluster = {
    kubeConfig: deps.kubeConfig,
    namespace,
    user: deps.user,
    objects: deps.kubeConfig.makeApiClient(CustomObjectsApi),
  };
  try {
    answer(200, {
      ok: true,
      message: await steer(cluster, name, parsed.data, deps.commandWaitMs),
    });
  } catch (error) {
    if (error instanceof CliError)
      answer(error.status ?? 409, { ok: false, message: error.message });
    else {
      deps.log.error({ err: error }, "command failed");
      answer(500, { ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  }
}
